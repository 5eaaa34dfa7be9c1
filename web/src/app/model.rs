//! The model worker seen from the app: its own wasm module (`squadkit-worker`, built by Trunk
//! as a web worker) started the first time the Ask view opens, so the app's first load never
//! fetches the model code. Requests go as `[json, bytes…]` ([`squadkit_worker::protocol`]),
//! answers come back as messages and land in [`ModelState`]'s signals. One job at a time; a
//! dataset's prediction is cancelled by terminating the worker, which is started again at once
//! with the model it had (the files are kept here for that).

use super::{Ctx, Which};
use crate::ask::{Answer, ModelInfo, Settings};
use leptos::prelude::*;
use squadkit_worker::protocol::{parse, text, Predicted, Request, Response};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What the worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Starting,
    Loading,
    Asking,
    Predicting,
    Benchmarking,
}

impl Job {
    pub fn describe(self) -> &'static str {
        match self {
            Job::Starting => "Starting the model worker…",
            Job::Loading => "Loading the model…",
            Job::Asking => "Answering…",
            Job::Predicting => "Predicting the dataset…",
            Job::Benchmarking => "Timing the model…",
        }
    }
}

/// The model's side of the app's state.
#[derive(Clone, Copy)]
pub struct ModelState {
    pub job: RwSignal<Option<Job>>,
    pub info: RwSignal<Option<ModelInfo>>,
    pub settings: RwSignal<Settings>,
    pub answer: RwSignal<Option<Answer>>,
    /// The context of the last question asked (the answer's offsets point into it).
    pub asked: RwSignal<String>,
    pub progress: RwSignal<Option<(usize, usize)>>,
    pub predicted: RwSignal<Option<Predicted>>,
    /// Where the next prediction goes (A or B).
    pub target: RwSignal<Which>,
    /// The last benchmark's result, as JSON text.
    pub bench: RwSignal<Option<String>>,
}

impl ModelState {
    pub fn new() -> ModelState {
        ModelState {
            job: RwSignal::new(None),
            info: RwSignal::new(None),
            settings: RwSignal::new(Settings::default()),
            answer: RwSignal::new(None),
            asked: RwSignal::new(String::new()),
            progress: RwSignal::new(None),
            predicted: RwSignal::new(None),
            target: RwSignal::new(Which::A),
            bench: RwSignal::new(None),
        }
    }
}

impl Default for ModelState {
    fn default() -> Self {
        ModelState::new()
    }
}

struct Handle {
    worker: web_sys::Worker,
    ready: bool,
    queue: Vec<js_sys::Array>,
    // Kept alive as long as the worker.
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

/// A model directory's files as opened: (name, bytes).
type ModelFiles = Vec<(String, Vec<u8>)>;

thread_local! {
    static WORKER: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// The user's model files, for a restarted worker (None: the demo model).
    static FILES: RefCell<Option<ModelFiles>> = const { RefCell::new(None) };
}

/// The loader Trunk writes for the worker (`data-loader-shim`), beside index.html.
const WORKER_URL: &str = "./squadkit-worker_loader.js";

/// Start the worker unless it runs, and load the model it should have.
pub fn ensure_started(ctx: Ctx) {
    if WORKER.with(|w| w.borrow().is_some()) {
        return;
    }
    let m = ctx.model;
    let worker = match web_sys::Worker::new(WORKER_URL) {
        Ok(w) => w,
        Err(e) => {
            ctx.error
                .set(Some(format!("The model worker could not start: {e:?}")));
            return;
        }
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let json = js_sys::Array::from(&ev.data())
                .get(0)
                .as_string()
                .unwrap_or_default();
            match parse::<Response>(&json) {
                Ok(r) => received(ctx, r),
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    let on_error =
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
            ev.prevent_default();
            m.job.set(None);
            ctx.error
                .set(Some(format!("The model worker failed: {}", ev.message())));
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    WORKER.with(|w| {
        *w.borrow_mut() = Some(Handle {
            worker,
            ready: false,
            queue: Vec::new(),
            _on_message: on_message,
            _on_error: on_error,
        })
    });
    m.job.set(Some(Job::Starting));
    match FILES.with(|f| f.borrow().clone()) {
        Some(files) => send_files(&files),
        None => send(&Request::LoadDemo, &[]),
    }
}

fn message(req: &Request, payloads: &[&[u8]]) -> js_sys::Array {
    let msg = js_sys::Array::of1(&JsValue::from_str(&text(req)));
    for p in payloads {
        msg.push(&js_sys::Uint8Array::from(*p));
    }
    msg
}

/// Post a request (queued until the worker says it is ready).
fn send(req: &Request, payloads: &[&[u8]]) {
    let msg = message(req, payloads);
    WORKER.with(|w| {
        if let Some(h) = w.borrow_mut().as_mut() {
            if h.ready {
                let _ = h.worker.post_message(&msg);
            } else {
                h.queue.push(msg);
            }
        }
    });
}

fn send_files(files: &[(String, Vec<u8>)]) {
    let names = files.iter().map(|(n, _)| n.clone()).collect();
    let payloads: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
    send(&Request::Load { files: names }, &payloads);
}

fn received(ctx: Ctx, r: Response) {
    let m = ctx.model;
    match r {
        Response::Ready => WORKER.with(|w| {
            if let Some(h) = w.borrow_mut().as_mut() {
                h.ready = true;
                for msg in h.queue.drain(..) {
                    let _ = h.worker.post_message(&msg);
                }
            }
        }),
        Response::Loaded { model } => {
            confirm_loaded();
            m.settings.set(model.settings);
            m.info.set(Some(model));
            m.answer.set(None);
            m.job.set(None);
        }
        Response::Answer { answer } => {
            m.answer.set(Some(answer));
            m.job.set(None);
        }
        Response::Progress { done, total } => m.progress.set(Some((done, total))),
        Response::Predicted(p) => {
            m.job.set(None);
            m.progress.set(None);
            let which = m.target.get_untracked();
            ctx.open_predictions("predictions.json", p.predictions.as_bytes(), which);
            if ctx.error.with_untracked(Option::is_none) {
                ctx.open_na_probs("null_odds.json", p.null_odds.as_bytes(), which);
            }
            m.predicted.set(Some(p));
        }
        Response::Bench {
            seq,
            parameters,
            median_ms,
            times_ms,
        } => {
            m.job.set(None);
            let v = serde_json::json!({"seq": seq, "parameters": parameters, "median_ms": median_ms, "times_ms": times_ms});
            m.bench.set(Some(v.to_string()));
        }
        Response::Error { message } => {
            drop_pending();
            m.job.set(None);
            m.progress.set(None);
            ctx.error.set(Some(message));
        }
    }
}

/// Load a model from an HF directory's files; a model that fails to load leaves the one
/// there, and its files are kept only once it has loaded.
pub fn load_files(ctx: Ctx, files: ModelFiles) {
    ensure_started(ctx);
    ctx.model.job.set(Some(Job::Loading));
    send_files(&files);
    // Kept for a restart only if it loads: the worker's answer decides (see `received`).
    PENDING.with(|p| *p.borrow_mut() = Some(files));
}

thread_local! {
    static PENDING: RefCell<Option<ModelFiles>> = const { RefCell::new(None) };
}

/// The files of the model just loaded become the ones a restarted worker loads.
pub fn confirm_loaded() {
    if let Some(files) = PENDING.with(|p| p.borrow_mut().take()) {
        FILES.with(|f| *f.borrow_mut() = Some(files));
    }
}

/// Forget a pending model that failed to load.
pub fn drop_pending() {
    PENDING.with(|p| *p.borrow_mut() = None);
}

/// Back to the bundled demo model.
pub fn load_demo(ctx: Ctx) {
    ensure_started(ctx);
    drop_pending();
    FILES.with(|f| *f.borrow_mut() = None);
    ctx.model.job.set(Some(Job::Loading));
    send(&Request::LoadDemo, &[]);
}

pub fn ask(ctx: Ctx, question: String, context: String) {
    ensure_started(ctx);
    let settings = ctx.model.settings.get_untracked();
    ctx.error.set(None);
    ctx.model.job.set(Some(Job::Asking));
    // The previous answer goes: what is shown is always the answer to what was asked last.
    ctx.model.answer.set(None);
    ctx.model.asked.set(context.clone());
    send(
        &Request::Ask {
            question,
            context,
            settings,
        },
        &[],
    );
}

/// Predict the open dataset; the answers open as `target`'s predictions and null odds.
pub fn predict(ctx: Ctx) {
    ensure_started(ctx);
    let (name, bytes) = ctx
        .data
        .with_untracked(|d| (d.name.clone(), d.source.clone()));
    let settings = ctx.model.settings.get_untracked();
    ctx.error.set(None);
    ctx.model.predicted.set(None);
    ctx.model.progress.set(Some((0, 0)));
    ctx.model.job.set(Some(Job::Predicting));
    send(&Request::Predict { name, settings }, &[bytes.as_slice()]);
}

/// Stop a prediction: the worker is terminated and started again with its model.
pub fn cancel(ctx: Ctx) {
    if let Some(h) = WORKER.with(|w| w.borrow_mut().take()) {
        h.worker.terminate();
    }
    drop_pending();
    ctx.model.progress.set(None);
    ctx.model.job.set(None);
    ctx.notice
        .set(Some("Prediction cancelled; nothing was opened.".into()));
    ensure_started(ctx);
}

pub fn bench(ctx: Ctx, config: Option<String>, seq: usize, runs: usize) {
    ensure_started(ctx);
    ctx.model.bench.set(None);
    ctx.model.job.set(Some(Job::Benchmarking));
    send(&Request::Bench { config, seq, runs }, &[]);
}
