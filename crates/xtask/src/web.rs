//! The browser app: `web/` built for wasm32 with cargo and `wasm-bindgen` into `web/dist`
//! (which the gateway serves), and the headless Chromium the browser test drives. Every tool is
//! installed when missing and left alone when present, so a second run costs only the build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::{cargo, root};

const TARGET: &str = "wasm32-unknown-unknown";

/// What a build produced.
pub struct Bundle {
    pub dist: PathBuf,
    pub wasm_bytes: u64,
    pub wasm_gzip_bytes: Option<u64>,
    pub js_bytes: u64,
    pub optimised: bool,
}

pub fn web_dir() -> PathBuf {
    root().join("web")
}

pub fn dist_dir() -> PathBuf {
    web_dir().join("dist")
}

/// Builds the release bundle into `web/dist`.
pub fn build() -> anyhow::Result<Bundle> {
    let started = Instant::now();
    ensure_wasm_target()?;
    let web = web_dir();
    let manifest = web.join("Cargo.toml");
    println!("xtask: building the web app (release, {TARGET})");
    let status = cargo()
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .status()?;
    if !status.success() {
        bail!("building the web app failed");
    }
    let wasm = crate::target_dir_of(Some(&manifest))?
        .join(TARGET)
        .join("release")
        .join("ticketing-web.wasm");
    if !wasm.is_file() {
        bail!("the web build produced no {}", wasm.display());
    }

    let bindgen = ensure_wasm_bindgen(&web.join("Cargo.lock"))?;
    let staging = web.join("dist.tmp");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let status = Command::new(&bindgen)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "app",
            "--out-dir",
        ])
        .arg(&staging)
        .arg(&wasm)
        .status()
        .context("running wasm-bindgen")?;
    if !status.success() {
        bail!("wasm-bindgen failed");
    }
    let out_wasm = staging.join("app_bg.wasm");
    let optimised = optimise(&out_wasm);

    let css = std::fs::read(web.join("assets/style.css")).context("web/assets/style.css")?;
    std::fs::write(staging.join("style.css"), &css)?;
    let wasm_bytes = std::fs::read(&out_wasm)?;
    let js = std::fs::read(staging.join("app.js"))?;
    // Cache-busting version: a hash of everything the page loads.
    let boot = std::fs::read(web.join("assets/boot.js")).context("web/assets/boot.js")?;
    let version = format!("{:016x}", fnv1a(&[&wasm_bytes, &js, &css, &boot]));
    // The page and its start-up script (a file: the CSP allows no inline script) name the version.
    for (source, name) in [("index.html", "index.html"), ("assets/boot.js", "boot.js")] {
        let text =
            std::fs::read_to_string(web.join(source)).with_context(|| format!("web/{source}"))?;
        std::fs::write(
            staging.join(name),
            text.replace("{{VERSION}}", &version[..12]),
        )?;
    }

    let dist = dist_dir();
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::rename(&staging, &dist)?;
    let bundle = Bundle {
        wasm_gzip_bytes: gzip_size(&dist.join("app_bg.wasm")),
        wasm_bytes: wasm_bytes.len() as u64,
        js_bytes: js.len() as u64,
        dist,
        optimised,
    };
    println!(
        "xtask: web app built in {:.0?} into {}: app_bg.wasm {} ({}{}), app.js {}",
        started.elapsed(),
        bundle.dist.display(),
        kib(bundle.wasm_bytes),
        bundle
            .wasm_gzip_bytes
            .map(|g| format!("{} gzipped", kib(g)))
            .unwrap_or_else(|| "gzip size unknown".into()),
        if bundle.optimised {
            ", wasm-opt -Oz"
        } else {
            ", not wasm-opt'ed"
        },
        kib(bundle.js_bytes),
    );
    Ok(bundle)
}

fn kib(bytes: u64) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for part in parts {
        for b in part.iter() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

fn gzip_size(file: &Path) -> Option<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(cargo_bin_dir())
        .map(|d| d.join(name))
        .find(|c| c.is_file())
}

fn cargo_bin_dir() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(home.join("bin"))
}

/// `rustup target add wasm32-unknown-unknown` unless it is there.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
            {
                return Ok(());
            }
            println!("xtask: adding the {TARGET} target (rustup target add {TARGET})");
            let status = Command::new("rustup")
                .args(["target", "add", TARGET])
                .status()?;
            if !status.success() {
                bail!("`rustup target add {TARGET}` failed");
            }
            Ok(())
        }
        // No rustup: the toolchain may still have the target; the build will say if not.
        _ => Ok(()),
    }
}

/// The wasm-bindgen version the web app is locked to (CLI and library must match exactly).
fn locked_wasm_bindgen(lock: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(lock).context("web/Cargo.lock")?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    bail!("no wasm-bindgen in web/Cargo.lock")
}

fn version_of(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}

/// `wasm-bindgen` of exactly the locked version, installed with `cargo install` when missing.
fn ensure_wasm_bindgen(lock: &Path) -> anyhow::Result<PathBuf> {
    let want = locked_wasm_bindgen(lock)?;
    if let Some(bin) = on_path("wasm-bindgen")
        && version_of(&bin).as_deref() == Some(want.as_str())
    {
        return Ok(bin);
    }
    println!(
        "xtask: installing wasm-bindgen-cli {want} (cargo install; a few minutes, once per machine)"
    );
    let started = Instant::now();
    let status = cargo()
        .args(["install", "wasm-bindgen-cli", "--version", &want])
        .status()?;
    if !status.success() {
        bail!("`cargo install wasm-bindgen-cli --version {want}` failed");
    }
    println!(
        "xtask: wasm-bindgen-cli installed in {:.0?}",
        started.elapsed()
    );
    let bin = cargo_bin_dir()
        .map(|d| d.join("wasm-bindgen"))
        .filter(|b| b.is_file())
        .or_else(|| on_path("wasm-bindgen"))
        .context("wasm-bindgen was installed but is not in the cargo bin directory")?;
    Ok(bin)
}

/// The binaryen release installed from npm when no recent `wasm-opt` is on PATH.
const BINARYEN_NPM: &str = "binaryen@132";

/// A `wasm-opt` that understands what rustc and wasm-bindgen emit today (reference types,
/// `table.fill`): binaryen 116 or newer. Debian's is older and breaks the bundle, so it is not
/// used; the npm build of binaryen is installed into a cache dir instead (node is on the image).
fn wasm_opt() -> Option<PathBuf> {
    let recent = |bin: &Path| {
        let out = Command::new(bin).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let v: u32 = text.split_whitespace().nth(2)?.parse().ok()?;
        (v >= 116).then_some(())
    };
    if let Some(bin) = on_path("wasm-opt")
        && recent(&bin).is_some()
    {
        return Some(bin);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
        .join("ticketing-tools/binaryen");
    let bin = cache.join("node_modules/.bin/wasm-opt");
    if bin.is_file() && recent(&bin).is_some() {
        return Some(bin);
    }
    let npm = on_path("npm")?;
    println!(
        "xtask: installing wasm-opt ({BINARYEN_NPM} from npm) into {}",
        cache.display()
    );
    std::fs::create_dir_all(&cache).ok()?;
    let ok = Command::new(npm)
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&cache)
        .arg(BINARYEN_NPM)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    (ok && bin.is_file() && recent(&bin).is_some()).then_some(bin)
}

/// `wasm-opt -Oz` when a recent binaryen is available; the bundle works without it, only larger.
fn optimise(wasm: &Path) -> bool {
    let Some(opt) = wasm_opt() else {
        println!(
            "xtask: no recent wasm-opt (binaryen 116+) and no npm to install one; the bundle is not size-optimised"
        );
        return false;
    };
    let tmp = wasm.with_extension("opt.wasm");
    let status = Command::new(opt)
        .args([
            "-Oz",
            "--strip-debug",
            "--strip-producers",
            "--enable-bulk-memory",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(&tmp)
        .status();
    match status {
        Ok(s) if s.success() && std::fs::rename(&tmp, wasm).is_ok() => true,
        _ => {
            let _ = std::fs::remove_file(&tmp);
            println!(
                "xtask: wasm-opt could not optimise the bundle; using it as wasm-bindgen wrote it"
            );
            false
        }
    }
}

/// Headless Chromium and its WebDriver for the browser test.
pub struct Browser {
    pub chrome: PathBuf,
    pub driver: PathBuf,
}

fn find_browser() -> Option<Browser> {
    let chrome = std::env::var_os("CHROME_BIN")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| {
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .iter()
            .find_map(|n| on_path(n))
        })?;
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| on_path("chromedriver"))?;
    Some(Browser { chrome, driver })
}

/// Chromium and chromedriver, from Debian's packages when missing.
pub fn ensure_browser() -> anyhow::Result<Browser> {
    if let Some(b) = find_browser() {
        return Ok(b);
    }
    let Some(apt) = on_path("apt-get") else {
        bail!(
            "chromium and chromedriver are needed for the browser test; install them \
             (or set CHROME_BIN and CHROMEDRIVER), or set SKIP_BROWSER_TEST=1"
        );
    };
    println!(
        "xtask: installing chromium and chromium-driver with apt-get (about a minute, once per machine)"
    );
    let started = Instant::now();
    let root_user = unsafe { libc::geteuid() } == 0;
    let run = |args: &[&str]| -> anyhow::Result<bool> {
        let mut cmd = if root_user {
            Command::new(&apt)
        } else {
            let mut c = Command::new("sudo");
            c.arg("-n").arg(&apt);
            c
        };
        Ok(cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?
            .success())
    };
    if !run(&["update", "-qq"])? {
        bail!("`apt-get update` failed");
    }
    if !run(&[
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ])? {
        bail!("`apt-get install chromium chromium-driver` failed");
    }
    println!("xtask: browser installed in {:.0?}", started.elapsed());
    find_browser().context("chromium or chromedriver still not found after apt-get install")
}
