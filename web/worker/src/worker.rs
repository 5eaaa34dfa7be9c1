//! The worker's message loop (wasm32 only): each message from the app is `[json, bytes…]`
//! ([`crate::protocol`]); the [`Engine`] does the work and every answer goes back as
//! `[json]`. One model at a time: a model that fails to load leaves the previous one in place.
//! Cancelling a dataset's prediction is the app's `Worker.terminate()`: the loop never has to
//! look for it.

use crate::engine::{parse_dataset, Engine};
use crate::protocol::{parse, text, Predicted, Request, Response};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(r: &Response) {
    let msg = js_sys::Array::of1(&JsValue::from_str(&text(r)));
    let _ = scope().post_message(&msg);
}

fn now() -> f64 {
    scope()
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Install the message handler and tell the app the worker is ready.
pub fn start() {
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let response = handle(ev.data()).unwrap_or_else(|message| Response::Error { message });
        post(&response);
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&Response::Ready);
}

fn with_engine<T>(f: impl FnOnce(&Engine) -> Result<T, String>) -> Result<T, String> {
    ENGINE.with(|e| match e.borrow().as_ref() {
        Some(engine) => f(engine),
        None => Err("no model is loaded yet".into()),
    })
}

fn handle(data: JsValue) -> Result<Response, String> {
    let parts: js_sys::Array = data
        .dyn_into()
        .map_err(|_| "a message that is not an array".to_string())?;
    let json = parts
        .get(0)
        .as_string()
        .ok_or("a message without its JSON text")?;
    let payload = |i: u32| js_sys::Uint8Array::new(&parts.get(i + 1)).to_vec();
    match parse::<Request>(&json)? {
        Request::LoadDemo => install(Engine::demo()),
        Request::Load { files } => {
            let files: Vec<(String, Vec<u8>)> = files
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, payload(i as u32)))
                .collect();
            install(Engine::from_files(&files)?)
        }
        Request::Ask {
            question,
            context,
            settings,
        } => with_engine(|e| e.ask(&question, &context, &settings))
            .map(|answer| Response::Answer { answer }),
        Request::Predict { name, settings } => {
            let bytes = payload(0);
            let dataset = parse_dataset(&name, &bytes)?;
            let started = now();
            with_engine(|e| {
                // At most ~50 progress messages, however many windows.
                let mut last = 0;
                let decoded = e.predict(&dataset, &settings, &mut |done, total| {
                    if done == total || done == 0 || (done - last) * 50 >= total {
                        last = done;
                        post(&Response::Progress { done, total });
                    }
                })?;
                Ok(Response::Predicted(Predicted {
                    name,
                    predictions: decoded.predictions_json(),
                    null_odds: decoded.null_odds_json(),
                    questions: decoded.examples.len(),
                    windows: last,
                    seconds: (now() - started) / 1000.0,
                }))
            })
        }
        Request::Bench { config, seq, runs } => with_engine(|e| {
            let (parameters, mut times) = e.bench(config.as_deref(), seq, runs.max(1), &now)?;
            let mut sorted = times.clone();
            sorted.sort_by(f64::total_cmp);
            let median_ms = sorted[sorted.len() / 2];
            times.shrink_to_fit();
            Ok(Response::Bench {
                seq,
                parameters,
                median_ms,
                times_ms: times,
            })
        }),
    }
}

fn install(engine: Engine) -> Result<Response, String> {
    let model = engine.info.clone();
    ENGINE.with(|e| *e.borrow_mut() = Some(engine));
    Ok(Response::Loaded { model })
}
