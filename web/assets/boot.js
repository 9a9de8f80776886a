// Starts the app. A file of its own, not an inline script: the gateway's Content-Security-Policy
// allows scripts from this origin only. `cargo xtask web` fills in the version.
import init from "/app.js?v={{VERSION}}";

init({ module_or_path: "/app_bg.wasm?v={{VERSION}}" }).catch((e) => {
  document.getElementById("boot").outerHTML =
    '<p class="boot" role="alert">The app could not start in this browser.</p>';
  console.error(e);
});
