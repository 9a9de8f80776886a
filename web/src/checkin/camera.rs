//! The camera at the door: the back camera into a `<video>` (`getUserMedia`), read by the
//! browser's `BarcodeDetector` where it has one, otherwise by drawing frames on a canvas and
//! decoding them in wasm ([`super::qr`]). Nothing here needs a CSP exception: no inline script,
//! no `eval`; the page's own wasm calls the browser APIs.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints, MediaStreamTrack,
};

use super::qr;

/// Widest frame handed to the wasm decoder: a ticket held up to the camera stays readable, and
/// each frame decodes in a few tens of milliseconds.
const MAX_FRAME_WIDTH: u32 = 640;

/// How frames are read.
enum Reader {
    /// The browser's `BarcodeDetector` for QR codes.
    Native(JsValue),
    /// Frames drawn on an off-screen canvas and decoded in wasm.
    Wasm {
        canvas: HtmlCanvasElement,
        context: CanvasRenderingContext2d,
    },
}

/// A running camera; dropping it turns the camera off.
pub struct Camera {
    stream: MediaStream,
    video: HtmlVideoElement,
    reader: Reader,
}

impl Drop for Camera {
    fn drop(&mut self) {
        for track in self.stream.get_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.stop();
            }
        }
        self.video.set_src_object(None);
    }
}

fn message(e: JsValue) -> String {
    Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

impl Camera {
    /// Asks for the back camera and shows it in `video`.
    pub async fn start(video: HtmlVideoElement) -> Result<Camera, String> {
        let window = web_sys::window().ok_or("no window")?;
        let devices = window.navigator().media_devices().map_err(
            |_| "This browser gives no access to a camera (it needs HTTPS or localhost).",
        )?;
        let constraints = MediaStreamConstraints::new();
        let video_wanted = Object::new();
        let _ = Reflect::set(&video_wanted, &"facingMode".into(), &"environment".into());
        constraints.set_video(&video_wanted);
        constraints.set_audio_bool(false);
        let asked = devices
            .get_user_media_with_constraints(&constraints)
            .map_err(message)?;
        let stream: MediaStream = JsFuture::from(asked)
            .await
            .map_err(|e| format!("The camera could not be opened: {}", message(e)))?
            .dyn_into()
            .map_err(|_| "The camera gave no video.")?;
        video.set_src_object(Some(&stream));
        let reader = native_reader(&window).map_or_else(wasm_reader, |d| Ok(Reader::Native(d)));
        let camera = Camera {
            stream,
            video,
            reader: reader?,
        };
        if let Ok(playing) = camera.video.play() {
            JsFuture::from(playing).await.map_err(message)?;
        }
        Ok(camera)
    }

    /// Which reader decodes the frames, for the page to say.
    pub fn reader_name(&self) -> &'static str {
        match self.reader {
            Reader::Native(_) => "the browser's barcode detector",
            Reader::Wasm { .. } => "the built-in QR decoder",
        }
    }

    /// How long to wait between two reads: the native detector is cheap, wasm decoding less so.
    pub fn pause_ms(&self) -> u32 {
        match self.reader {
            Reader::Native(_) => 150,
            Reader::Wasm { .. } => 300,
        }
    }

    /// The text of a QR code in the current frame, if there is one.
    pub async fn read(&self) -> Option<String> {
        // HAVE_CURRENT_DATA: the video has a frame to read.
        if self.video.ready_state() < 2 {
            return None;
        }
        match &self.reader {
            Reader::Native(detector) => detect(detector, &self.video).await,
            Reader::Wasm { canvas, context } => {
                let (w, h) = frame_size(self.video.video_width(), self.video.video_height())?;
                canvas.set_width(w);
                canvas.set_height(h);
                context
                    .draw_image_with_html_video_element_and_dw_and_dh(
                        &self.video,
                        0.0,
                        0.0,
                        f64::from(w),
                        f64::from(h),
                    )
                    .ok()?;
                let pixels = context
                    .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
                    .ok()?
                    .data();
                qr::read_rgba(w as usize, h as usize, &pixels)
            }
        }
    }
}

fn frame_size(width: u32, height: u32) -> Option<(u32, u32)> {
    if width == 0 || height == 0 {
        return None;
    }
    let w = width.min(MAX_FRAME_WIDTH);
    Some((
        w,
        (u64::from(height) * u64::from(w) / u64::from(width)).max(1) as u32,
    ))
}

/// `new BarcodeDetector({formats: ["qr_code"]})` when the browser has it.
fn native_reader(window: &web_sys::Window) -> Option<JsValue> {
    let ctor: Function = Reflect::get(window, &"BarcodeDetector".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &Array::of1(&"qr_code".into())).ok()?;
    Reflect::construct(&ctor, &Array::of1(&options)).ok()
}

fn wasm_reader() -> Result<Reader, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(message)?
        .dyn_into()
        .map_err(|_| "no canvas")?;
    // Frames are read back every time: tell the browser to keep the canvas in memory.
    let options = Object::new();
    let _ = Reflect::set(&options, &"willReadFrequently".into(), &true.into());
    let context = canvas
        .get_context_with_context_options("2d", &options)
        .map_err(message)?
        .ok_or("no 2d canvas")?
        .dyn_into()
        .map_err(|_| "no 2d canvas")?;
    Ok(Reader::Wasm { canvas, context })
}

/// `detector.detect(video)`, the first code's `rawValue`.
async fn detect(detector: &JsValue, video: &HtmlVideoElement) -> Option<String> {
    let detect: Function = Reflect::get(detector, &"detect".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = detect.call1(detector, video).ok()?.dyn_into().ok()?;
    let found = JsFuture::from(promise).await.ok()?;
    let first = Array::from(&found).get(0);
    if first.is_undefined() {
        return None;
    }
    Reflect::get(&first, &"rawValue".into()).ok()?.as_string()
}
