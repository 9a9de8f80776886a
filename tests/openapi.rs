//! The OpenAPI documents of the five services:
//! - the committed copies under `docs/openapi/` are what the code generates
//!   (`UPDATE_DOCS=1 cargo test -p e2e --test openapi` rewrites them);
//! - each document lists exactly the routes its router declares, and each service really serves
//!   its document, directly and through the gateway;
//! - every documented operation is routed, and what the running services answer (errors and
//!   successes of a whole booking) has a documented status and matches the documented schema,
//!   property for property.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use e2e::{APPROVED_CARD, DECLINED_CARD, System, cancel_order, card_body};
use platform::testing::{TestClient, TestResponse, eventually};
use serde_json::{Value, json};
use uuid::Uuid;

/// A service: its file under `docs/openapi/`, its crate directory, the prefix of its routes and
/// its document as the code generates it.
struct Service {
    name: &'static str,
    krate: &'static str,
    document: Value,
}

impl Service {
    fn all() -> Vec<Service> {
        // The crate is the service's name with `-service`: `auth` is `auth-service`.
        macro_rules! service {
            ($name:literal, $krate:ident) => {
                Service {
                    name: $name,
                    krate: concat!($name, "-service"),
                    document: serde_json::to_value($krate::openapi())
                        .expect("the document serializes"),
                }
            };
        }
        vec![
            service!("auth", auth_service),
            service!("event", event_service),
            service!("ticket", ticket_service),
            service!("payment", payment_service),
            service!("notification", notification_service),
        ]
    }

    fn committed_path(&self) -> PathBuf {
        workspace_root()
            .join("docs/openapi")
            .join(format!("{}.json", self.name))
    }

    /// Where the service serves its document.
    fn document_path(&self) -> &'static str {
        match self.name {
            "auth" => "/api/auth/openapi.json",
            "event" => "/api/events/openapi.json",
            "ticket" => "/api/tickets/openapi.json",
            "payment" => "/api/payment/openapi.json",
            "notification" => "/api/notifications/openapi.json",
            other => unreachable!("unknown service {other}"),
        }
    }

    /// `(METHOD, path)` of every documented operation.
    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut ops = BTreeSet::new();
        for (path, item) in self.document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if HTTP_METHODS.contains(&method.as_str()) {
                    ops.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        ops
    }
}

const HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace root")
        .to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// The committed documents
// ---------------------------------------------------------------------------------------------

const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p e2e --test openapi";

#[test]
fn the_committed_documents_are_what_the_code_generates() {
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0");
    let mut stale = Vec::new();
    for service in Service::all() {
        let path = service.committed_path();
        if update {
            std::fs::create_dir_all(path.parent().expect("docs/openapi")).expect("mkdir");
            let text = serde_json::to_string_pretty(&service.document).expect("pretty JSON");
            std::fs::write(&path, format!("{text}\n")).expect("write the document");
            continue;
        }
        let committed: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        match committed {
            None => stale.push(format!("{} is missing or not JSON", path.display())),
            Some(committed) if committed != service.document => {
                let mut diffs = Vec::new();
                json_diff("", &committed, &service.document, &mut diffs);
                let shown: Vec<_> = diffs.iter().take(10).map(|d| format!("    {d}")).collect();
                stale.push(format!(
                    "{} differs from `{}::openapi()` at {} place(s):\n{}",
                    path.display(),
                    service.krate.replace('-', "_"),
                    diffs.len(),
                    shown.join("\n")
                ));
            }
            Some(_) => {}
        }
    }
    assert!(
        stale.is_empty(),
        "The committed OpenAPI documents drifted from the code:\n{}\n\nRegenerate them with \
         `{REGENERATE}`, review the diff and commit it.",
        stale.join("\n")
    );
}

/// JSON pointers where `committed` and `generated` differ (`-` removed, `+` added, `~` changed).
fn json_diff(at: &str, committed: &Value, generated: &Value, out: &mut Vec<String>) {
    match (committed, generated) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match b.get(k) {
                    Some(vb) => json_diff(&here, va, vb, out),
                    None => out.push(format!("- {here} (only in the committed file)")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(format!("+ {here} (only in the code)"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{at}/{i}"), va, vb, out);
            }
        }
        (a, b) if a != b => out.push(format!("~ {at}: {a} -> {b}")),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The documents themselves
// ---------------------------------------------------------------------------------------------

#[test]
fn each_document_is_openapi_3_1_with_the_shared_error_shape_and_the_session_cookie() {
    for service in Service::all() {
        let doc = &service.document;
        let name = service.name;
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{name}: not OpenAPI 3.1: {}",
            doc["openapi"]
        );
        let mut title = name.to_string();
        title[..1].make_ascii_uppercase();
        assert_eq!(doc["info"]["title"], format!("{title} service"), "{name}");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"), "{name}");
        assert_eq!(
            doc["components"]["securitySchemes"]["cookieAuth"],
            json!({"type": "apiKey", "in": "cookie", "name": "sid",
                   "description": doc["components"]["securitySchemes"]["cookieAuth"]["description"]}),
            "{name}: the cookieAuth scheme"
        );
        let error = &doc["components"]["schemas"]["ErrorBody"];
        assert_eq!(error["required"], json!(["error"]), "{name}: ErrorBody");

        for (method, path) in service.operations() {
            let op = &doc["paths"][&path][method.to_lowercase()];
            let what = format!("{name}: {method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what} documents no success"
            );
            for (status, response) in responses {
                let schema = &response["content"]["application/json"]["schema"];
                // `/ready` answers 503 with its checks, the one exception.
                if !status.starts_with('2') && path != "/ready" {
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ErrorBody",
                        "{what}: {status} does not answer with the shared error shape"
                    );
                }
            }
            // A route that needs a session says so, and documents the 401 and 503 of the check
            // (the auth service checks its own sessions, so it has no 503).
            let security = op["security"].as_array().cloned().unwrap_or_default();
            let needs_session = !security.is_empty() && !security.iter().any(|r| r == &json!({}));
            if needs_session {
                assert!(
                    responses.contains_key("401"),
                    "{what} needs a session but documents no 401"
                );
                if name != "auth" {
                    assert!(
                        responses.contains_key("503"),
                        "{what} needs a session but documents no 503 auth_unavailable"
                    );
                }
            }
            // Every `{param}` of the path is documented.
            let documented: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(documented, in_path, "{what}: path parameters");
        }
    }
}

#[test]
fn the_event_list_documents_its_filters() {
    let doc = &Service::all()[1].document;
    let names: Vec<&str> = doc["paths"]["/api/events"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .inspect(|p| assert_eq!(p["in"], "query"))
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["category", "q", "city", "from", "to", "page", "limit"]
    );
}

// ---------------------------------------------------------------------------------------------
// Documents against the routers
// ---------------------------------------------------------------------------------------------

/// The files of a service that declare its routes: `src/routes.rs` or every file under
/// `src/routes/`, and `src/openapi.rs` (which may route its own document).
fn route_files(krate: &str) -> Vec<PathBuf> {
    let src = workspace_root().join("crates").join(krate).join("src");
    let mut files = vec![src.join("routes.rs"), src.join("openapi.rs")];
    if let Ok(dir) = std::fs::read_dir(src.join("routes")) {
        files.extend(dir.map(|entry| entry.expect("a readable directory").path()));
    }
    files.retain(|f| f.extension().is_some_and(|e| e == "rs") && f.is_file());
    files.sort();
    files
}

/// `(METHOD, path)` of every `.route(...)` in a service's [`route_files`], plus `/health` and
/// `/ready` that `platform::http::finish` adds to every service, and the document itself, which
/// `platform::openapi::route` serves beside the routes (that it really is served is
/// `the_services_serve_their_documents_and_answer_as_documented`).
fn declared_routes(service: &Service) -> BTreeSet<(String, String)> {
    let krate = service.krate;
    let mut routes = BTreeSet::new();
    for file in route_files(krate) {
        routes.extend(routes_in(&file));
    }
    assert!(
        !routes.is_empty(),
        "{krate}: no `.route(...)` found in {:?}; update this test if the routes moved",
        route_files(krate)
    );
    routes.insert(("GET".into(), "/health".into()));
    routes.insert(("GET".into(), "/ready".into()));
    routes.insert(("GET".into(), service.document_path().into()));
    routes
}

/// `(METHOD, path)` of every `.route(...)` in one file.
fn routes_in(file: &Path) -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut routes = BTreeSet::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The arguments: up to the parenthesis that closes `.route(`.
        let mut depth = 0usize;
        let mut end = rest.len();
        let mut in_string = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string && depth == 0 => {
                    end = i;
                    break;
                }
                ')' if !in_string => depth -= 1,
                _ => {}
            }
        }
        let args = &rest[..end];
        let path = args.split('"').nth(1).unwrap_or_else(|| {
            panic!("{}: a route without a literal path: {args}", file.display())
        });
        let after = &args[args.find(path).expect("path") + path.len() + 1..];
        // Method routers at the top level of the second argument: `get(a).post(b)`.
        let mut depth = 0usize;
        let mut ident = String::new();
        for c in after.chars() {
            match c {
                '(' => {
                    if depth == 0 {
                        let method = ident.to_lowercase();
                        assert!(
                            HTTP_METHODS.contains(&method.as_str()),
                            "{}: `{path}` is routed with `{ident}(...)`, which this test cannot \
                             read; route it with get/post/patch/put/delete",
                            file.display()
                        );
                        routes.insert((method.to_uppercase(), path.to_string()));
                    }
                    depth += 1;
                    ident.clear();
                }
                ')' => depth = depth.saturating_sub(1),
                c if c.is_alphanumeric() || c == '_' => ident.push(c),
                _ => ident.clear(),
            }
        }
        rest = &rest[end..];
    }
    routes
}

#[test]
fn each_document_lists_exactly_the_routes_its_router_declares() {
    let mut problems = Vec::new();
    for service in Service::all() {
        let declared = declared_routes(&service);
        let documented = service.operations();
        for (method, path) in declared.difference(&documented) {
            problems.push(format!(
                "{}: {method} {path} is routed but not documented (add `#[utoipa::path(...)]` to \
                 its handler and list it in `paths(...)` of crates/{}/src/openapi.rs)",
                service.name, service.krate
            ));
        }
        for (method, path) in documented.difference(&declared) {
            problems.push(format!(
                "{}: {method} {path} is documented but not routed in crates/{}/src/routes* or \
                 src/openapi.rs",
                service.name, service.krate
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks answers against a service's document: the status must be documented for the
/// operation, and a JSON body must match the documented schema (required properties present, no
/// undocumented property, types and enums as documented).
struct Checker {
    documents: BTreeMap<&'static str, Value>,
    problems: Vec<String>,
    checked: usize,
}

impl Checker {
    fn new() -> Self {
        Self {
            documents: Service::all()
                .into_iter()
                .map(|s| (s.name, s.document))
                .collect(),
            problems: Vec::new(),
            checked: 0,
        }
    }

    /// Asserts that `res` has `status`, then checks it against the document.
    #[track_caller]
    fn expect(
        &mut self,
        status: u16,
        service: &str,
        method: &str,
        template: &str,
        res: &TestResponse,
    ) {
        assert_eq!(res.status, status, "{}", res.text);
        self.check(service, method, template, res);
    }

    fn check(&mut self, service: &str, method: &str, template: &str, res: &TestResponse) {
        self.checked += 1;
        let doc = &self.documents[service];
        let what = format!("{service}: {method} {template} answered {}", res.status);
        let op = &doc["paths"][template][method.to_lowercase()];
        if op.is_null() {
            self.problems
                .push(format!("{what}, but the operation is not documented"));
            return;
        }
        let response = &op["responses"][res.status.to_string()];
        if response.is_null() {
            self.problems.push(format!(
                "{what}, a status it does not document: {}",
                res.text
            ));
            return;
        }
        let Some(schema) = response["content"]["application/json"].get("schema") else {
            return;
        };
        let body: Value = match serde_json::from_str(&res.text) {
            Ok(v) => v,
            Err(e) => {
                self.problems.push(format!(
                    "{what} with a body that is not JSON ({e}): {}",
                    res.text
                ));
                return;
            }
        };
        let mut errors = Vec::new();
        validate(doc, schema, &body, "", &mut errors);
        for e in errors {
            self.problems.push(format!("{what}: {e}"));
        }
    }

    fn finish(self) {
        assert!(self.checked > 0);
        assert!(
            self.problems.is_empty(),
            "answers that the documents do not describe:\n{}",
            self.problems.join("\n")
        );
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The properties and required names of an object schema, merged over `allOf` (which utoipa
/// uses for `#[serde(flatten)]`).
fn object_shape(
    doc: &Value,
    schema: &Value,
) -> Option<(BTreeMap<String, Value>, BTreeSet<String>)> {
    let schema = resolve(doc, schema);
    if let Some(parts) = schema["allOf"].as_array() {
        let mut props = BTreeMap::new();
        let mut required = BTreeSet::new();
        for part in parts {
            let (p, r) = object_shape(doc, part)?;
            props.extend(p);
            required.extend(r);
        }
        return Some((props, required));
    }
    let props = schema["properties"].as_object()?;
    let required = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Some((
        props.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        required,
    ))
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let here = if at.is_empty() { "the body" } else { at };
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let fits = alternatives.iter().any(|alt| {
            let mut e = Vec::new();
            validate(doc, alt, value, at, &mut e);
            e.is_empty()
        });
        if !fits {
            errors.push(format!(
                "{here} fits none of the documented alternatives: {value}"
            ));
        }
        return;
    }
    match &schema["type"] {
        Value::String(ty) if !type_matches(ty, value) => {
            errors.push(format!("{here} should be {ty}: {value}"));
            return;
        }
        Value::Array(types)
            if !types
                .iter()
                .any(|t| type_matches(t.as_str().unwrap_or(""), value)) =>
        {
            errors.push(format!("{here} should be one of {types:?}: {value}"));
            return;
        }
        _ => {}
    }
    if value.is_null() {
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!(
            "{here} = {value}, not one of the documented {allowed:?}"
        ));
    }
    match value {
        Value::Object(fields) => {
            if let Some((props, required)) = object_shape(doc, schema) {
                for name in &required {
                    if !fields.contains_key(name) {
                        errors.push(format!("{at}/{name} is documented as required but missing"));
                    }
                }
                for (name, v) in fields {
                    match props.get(name) {
                        Some(s) => validate(doc, s, v, &format!("{at}/{name}"), errors),
                        None => errors.push(format!("{at}/{name} is not documented")),
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object())
            {
                for (name, v) in fields {
                    validate(doc, extra, v, &format!("{at}/{name}"), errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    validate(doc, item, v, &format!("{at}/{i}"), errors);
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_services_serve_their_documents_and_answer_as_documented() {
    const ORDER_CANCEL: &str = "/api/tickets/orders/{id}/cancel";
    let system = System::start().await;
    let services = Service::all();
    let base = |name: &str| match name {
        "auth" => system.auth.url(),
        "event" => system.events.url(),
        "ticket" => system.tickets.url(),
        "payment" => system.payments.url(),
        "notification" => system.notifications.url(),
        other => unreachable!("{other}"),
    };

    // Each service serves its own document, directly and through the gateway. For the event
    // service this also proves `/api/events/openapi.json` is not taken for an event id.
    for service in &services {
        for (via, url) in [
            ("directly", base(service.name)),
            ("through the gateway", system.gateway.url()),
        ] {
            let res = TestClient::new(url).get(service.document_path()).await;
            assert_eq!(
                res.status,
                200,
                "{} {via}: {}",
                service.document_path(),
                res.text
            );
            assert_eq!(
                res.header("content-type"),
                Some("application/json"),
                "{} {via}",
                service.document_path()
            );
            assert!(
                res.json() == service.document,
                "{} {via} is not `{}::openapi()`",
                service.document_path(),
                service.krate.replace('-', "_")
            );
        }
    }

    // Every documented operation is routed: called anonymously with an empty JSON object (and a
    // fresh id for every path parameter), none answers the router's 404 `not_found` or 405, and
    // each answer is one the document describes.
    let mut checker = Checker::new();
    let anonymous = reqwest::Client::new();
    for service in &services {
        for (method, template) in service.operations() {
            let path: String = template
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        Uuid::new_v4().to_string()
                    } else {
                        s.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let url = format!("{}{path}", base(service.name));
            let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut req = anonymous.request(method_value, &url);
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
                req = req.json(&json!({}));
            }
            let res = TestClient::new("").send(req).await;
            let routed = res.status != 405
                && !(res.status == 404
                    && serde_json::from_str::<Value>(&res.text)
                        .is_ok_and(|v| v["error"]["code"] == "not_found"));
            assert!(
                routed,
                "{}: {method} {template} is documented but the service has no such route \
                 ({method} {path} answered {}: {})",
                service.name, res.status, res.text
            );
            checker.check(service.name, &method, &template, &res);
        }
    }

    // A whole booking through the gateway, each answer against the documents.
    let organizer = system.browser();
    let email = format!("olga-{}@example.com", Uuid::new_v4().simple());
    let olga = |last_name: &str| {
        json!({
            "email": email, "password": "correct-horse",
            "firstName": "Olga", "lastName": last_name
        })
    };
    let res = organizer
        .post("/api/auth/register", &olga("Organizer"))
        .await;
    checker.expect(201, "auth", "POST", "/api/auth/register", &res);
    // The same address again, under another name.
    let res = organizer.post("/api/auth/register", &olga("Again")).await;
    checker.expect(409, "auth", "POST", "/api/auth/register", &res);
    let again = system.browser();
    let res = auth_service::testing::log_in(&again, &email, "correct-horse").await;
    checker.expect(200, "auth", "POST", "/api/auth/login", &res);
    let res = auth_service::testing::log_in(&again, &email, "wrong-password").await;
    checker.expect(401, "auth", "POST", "/api/auth/login", &res);
    for path in ["/api/auth/me", "/api/auth/verify"] {
        let res = organizer.get(path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        checker.check("auth", "GET", path, &res);
    }

    let starts = (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339();
    let event_body = |status: &str| {
        json!({
            "title": "Night of Documents",
            "description": "Every answer as documented.",
            "category": "music",
            "venue": {"name": "Hall", "address": "1 Main St", "city": "Lisbon", "capacity": 20},
            "dateTime": starts,
            "duration": 120,
            "ticketTypes": [
                {"name": "General", "price": 25.5, "quantity": 15, "description": ""},
                {"name": "VIP", "price": 80, "quantity": 2}
            ],
            "organizer": {"phone": "+351 21 000 0000"},
            "status": status,
        })
    };
    let res = organizer
        .post("/api/events", &event_body("published"))
        .await;
    checker.expect(201, "event", "POST", "/api/events", &res);
    let event: Uuid = res.json()["event"]["id"].as_str().unwrap().parse().unwrap();
    let res = organizer
        .post("/api/events", &json!({"title": "x", "ticketTypes": []}))
        .await;
    checker.expect(422, "event", "POST", "/api/events", &res);
    let res = organizer
        .get("/api/events?category=Music&city=lisbon&from=2000-01-01&page=1&limit=5")
        .await;
    checker.expect(200, "event", "GET", "/api/events", &res);
    let res = organizer.get("/api/events?sort=price").await;
    checker.expect(400, "event", "GET", "/api/events", &res);
    let res = organizer.get(&format!("/api/events/{event}")).await;
    checker.check("event", "GET", "/api/events/{id}", &res);
    let res = organizer.get("/api/events/my/events").await;
    checker.check("event", "GET", "/api/events/my/events", &res);
    let res = organizer
        .patch(
            &format!("/api/events/{event}"),
            &json!({"description": "Changed.", "venue": {"capacity": 30}}),
        )
        .await;
    checker.expect(200, "event", "PATCH", "/api/events/{id}", &res);
    let res = organizer.post("/api/events", &event_body("draft")).await;
    let draft = res.json()["event"]["id"].as_str().unwrap().to_string();
    for (step, status) in [("publish", 200), ("publish", 409), ("cancel", 200)] {
        let template = format!("/api/events/{{id}}/{step}");
        let res = organizer
            .post(&format!("/api/events/{draft}/{step}"), &json!({}))
            .await;
        assert_eq!(res.status, status, "{step}: {}", res.text);
        checker.check("event", "POST", &template, &res);
    }

    let buyer = system.sign_up("Bruno").await;
    let res = buyer
        .patch(&format!("/api/events/{event}"), &json!({}))
        .await;
    checker.expect(403, "event", "PATCH", "/api/events/{id}", &res);
    let res = buyer
        .get(&format!("/api/tickets/events/{event}/availability"))
        .await;
    checker.expect(
        200,
        "ticket",
        "GET",
        "/api/tickets/events/{event_id}/availability",
        &res,
    );
    let book = json!({"eventId": event, "tickets": [{"ticketType": "general", "quantity": 2}],
                      "customerInfo": {"phone": "+351 21 000 0001"}});
    let booking = |key: &str| {
        buyer
            .http
            .post(buyer.url("/api/tickets/book"))
            .header("Idempotency-Key", key)
            .json(&book)
    };
    let key = Uuid::new_v4().to_string();
    let res = buyer.send(booking(&key)).await;
    checker.expect(201, "ticket", "POST", "/api/tickets/book", &res);
    let order_id: Uuid = res.json()["orderId"].as_str().unwrap().parse().unwrap();
    let res = buyer.send(booking(&key)).await;
    assert_eq!(res.header("idempotent-replayed"), Some("true"));
    checker.check("ticket", "POST", "/api/tickets/book", &res);
    let res = buyer
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": [{"ticketType": "VIP", "quantity": 3}]}),
        )
        .await;
    checker.expect(409, "ticket", "POST", "/api/tickets/book", &res);
    let res = buyer
        .post("/api/tickets/book", &json!({"tickets": [{"quantity": 0}]}))
        .await;
    checker.expect(422, "ticket", "POST", "/api/tickets/book", &res);

    // A declined payment, then an approved one.
    let res = buyer
        .post("/api/payment/process", &card_body(order_id, DECLINED_CARD))
        .await;
    checker.expect(201, "payment", "POST", "/api/payment/process", &res);
    let res = buyer
        .post("/api/payment/process", &card_body(order_id, APPROVED_CARD))
        .await;
    checker.expect(201, "payment", "POST", "/api/payment/process", &res);
    let payment_id = res.json()["payment"]["id"].as_str().unwrap().to_string();
    let res = buyer
        .post("/api/payment/process", &card_body(order_id, APPROVED_CARD))
        .await;
    checker.expect(409, "payment", "POST", "/api/payment/process", &res);
    let res = buyer
        .get(&format!("/api/payment/status/{payment_id}"))
        .await;
    checker.expect(200, "payment", "GET", "/api/payment/status/{id}", &res);
    let res = buyer.get(&format!("/api/payment/orders/{order_id}")).await;
    checker.expect(
        200,
        "payment",
        "GET",
        "/api/payment/orders/{order_id}",
        &res,
    );

    // Confirmed, with e-tickets and both payment attempts.
    let order_path = format!("/api/tickets/orders/{order_id}");
    let confirmed = eventually("the order is confirmed", || async {
        let res = buyer.get(&order_path).await;
        (res.json()["order"]["status"] == "confirmed").then_some(res)
    })
    .await;
    checker.check("ticket", "GET", "/api/tickets/orders/{id}", &confirmed);
    let res = cancel_order(&buyer, &order_id.to_string()).await;
    checker.expect(409, "ticket", "POST", ORDER_CANCEL, &res);

    // The organizer's back office: the event's orders, summary and attendees, then a refund of
    // the confirmed order, which the payment service carries through to `refunded`.
    let back_office = |what: &str| format!("/api/tickets/events/{event}/{what}");
    for (query, status) in [
        ("?status=confirmed&q=bruno&page=1&limit=5", 200),
        ("?status=paid", 400),
    ] {
        let res = organizer
            .get(&format!("{}{query}", back_office("orders")))
            .await;
        checker.expect(
            status,
            "ticket",
            "GET",
            "/api/tickets/events/{event_id}/orders",
            &res,
        );
    }
    let res = organizer.get(&back_office("summary")).await;
    checker.expect(
        200,
        "ticket",
        "GET",
        "/api/tickets/events/{event_id}/summary",
        &res,
    );
    let res = buyer.get(&back_office("summary")).await;
    checker.expect(
        404,
        "ticket",
        "GET",
        "/api/tickets/events/{event_id}/summary",
        &res,
    );
    let res = organizer.get(&back_office("attendees.csv")).await;
    checker.expect(
        200,
        "ticket",
        "GET",
        "/api/tickets/events/{event_id}/attendees.csv",
        &res,
    );
    // The door: check-in staff named in the catalogue, a scan of the signed code, a bad scan,
    // the offline bundle.
    let staff_path = format!("/api/events/{event}/staff");
    let staff_body = json!({"email": "door@example.org"});
    let res = organizer.post(&staff_path, &staff_body).await;
    checker.expect(201, "event", "POST", "/api/events/{id}/staff", &res);
    let res = buyer.post(&staff_path, &staff_body).await;
    checker.expect(403, "event", "POST", "/api/events/{id}/staff", &res);
    let res = organizer.get(&staff_path).await;
    checker.expect(200, "event", "GET", "/api/events/{id}/staff", &res);
    let res = organizer
        .request(reqwest::Method::DELETE, &staff_path, |r| {
            r.json(&staff_body)
        })
        .await;
    checker.expect(200, "event", "DELETE", "/api/events/{id}/staff", &res);
    let signed = confirmed.json()["order"]["issuedTickets"][0]["signedCode"].clone();
    let res = organizer
        .post(
            "/api/tickets/checkin",
            &json!({"eventId": event, "code": signed, "nonce": "openapi-1", "gate": "Main"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["result"], "ok");
    checker.check("ticket", "POST", "/api/tickets/checkin", &res);
    let res = organizer
        .post(
            "/api/tickets/checkin",
            &json!({"eventId": event, "code": "", "nonce": "openapi-2"}),
        )
        .await;
    checker.expect(422, "ticket", "POST", "/api/tickets/checkin", &res);
    let res = buyer
        .post(
            "/api/tickets/checkin",
            &json!({"eventId": event, "code": signed, "nonce": "openapi-3"}),
        )
        .await;
    checker.expect(404, "ticket", "POST", "/api/tickets/checkin", &res);
    let res = organizer.get(&back_office("checkin/bundle")).await;
    checker.expect(
        200,
        "ticket",
        "GET",
        "/api/tickets/events/{event_id}/checkin/bundle",
        &res,
    );

    let refund = format!("{order_path}/refund");
    let res = organizer
        .post(&refund, &json!({"reason": "Asked by phone"}))
        .await;
    checker.expect(
        202,
        "ticket",
        "POST",
        "/api/tickets/orders/{id}/refund",
        &res,
    );
    let res = organizer.post(&refund, &json!({})).await;
    checker.expect(
        409,
        "ticket",
        "POST",
        "/api/tickets/orders/{id}/refund",
        &res,
    );
    let refunded = eventually("the order is refunded", || async {
        let res = buyer.get(&order_path).await;
        (res.json()["order"]["status"] == "refunded").then_some(res)
    })
    .await;
    checker.check("ticket", "GET", "/api/tickets/orders/{id}", &refunded);

    // The mails the buyer was sent by now: the decline and the confirmation at least.
    let res = eventually("the buyer's mails are listed", || async {
        let res = buyer.get("/api/notifications/mine").await;
        (res.json()["notifications"].as_array().map_or(0, Vec::len) >= 2).then_some(res)
    })
    .await;
    checker.check("notification", "GET", "/api/notifications/mine", &res);

    // A second order, cancelled by the buyer.
    let res = buyer.post("/api/tickets/book", &book).await;
    let second = res.json()["orderId"].as_str().unwrap().to_string();
    let res = cancel_order(&buyer, &second).await;
    checker.expect(200, "ticket", "POST", ORDER_CANCEL, &res);
    let res = buyer.get("/api/tickets/orders").await;
    checker.expect(200, "ticket", "GET", "/api/tickets/orders", &res);

    let res = buyer.post("/api/auth/logout", &json!({})).await;
    checker.expect(200, "auth", "POST", "/api/auth/logout", &res);
    let res = buyer.get("/api/tickets/orders").await;
    checker.expect(401, "ticket", "GET", "/api/tickets/orders", &res);
    let res = buyer.get("/api/notifications/mine").await;
    checker.expect(401, "notification", "GET", "/api/notifications/mine", &res);

    checker.finish();
}
