//! Raw input → [`Problem`], or every problem found, at once.
//!
//! Nothing is modelled before the whole input has been checked. Each problem is reported
//! with a stable code, the JSON path of the offending value, the ids involved and a hint:
//!
//! | code | problem |
//! |------|---------|
//! | E001 | JSON syntax error (line, column) |
//! | E002 | wrong type, missing field or invalid value (date, time, enum), an empty id, a key given twice in one object (`hours`, `availability`), or an array where an object is expected (serde would read it by position) |
//! | E003 | unknown field |
//! | E004 | unsupported format version |
//! | E005 | unknown IANA time zone, or one whose UTC offset in the week is not whole minutes (local mean time) |
//! | E006 | `week.days` outside 1..=7 |
//! | E007 | `week.grid_min` not 5, 10, 15, 30 or 60 |
//! | E008 | duplicate id (or two availability overrides of one date) |
//! | E009 | unknown site id |
//! | E010 | unknown provider id |
//! | E011 | unknown resource id |
//! | E012 | unknown patient id |
//! | E013 | unknown request id |
//! | E014 | travel matrix: pair missing, duplicated, or from a site to itself |
//! | E015 | a window or interval that ends at or before it starts |
//! | E016 | duration zero or not a multiple of the grid |
//! | E018 | request with neither `specialty` nor `providers` |
//! | E019 | priority outside 1..=5 |
//! | E020 | earliest after latest, or a date window that misses the week |
//! | E021 | a dated item outside the week |
//! | E022 | existing booking off the grid, outside the horizon, at a local time the clocks skip, with a UTC offset that is neither the week zone's nor the provider's site zone's then, with modality `either`, or pinned holding a resource its request does not need (an interpreter too, where the provider speaks the patient's language) |
//! | E023 | pinned booking with a provider not eligible for its request |
//! | E024 | resource kind that no resource has |
//! | E025 | precedence of a request on itself, or `min_gap_min` above `max_gap_min` |
//! | E026 | cycle of ordering links (precedence, back_to_back) |
//! | E027 | `same_day` link with fewer than two distinct requests |
//! | E028 | negative objective weight, or one above 10^9 (the objective would overflow) |
//! | E029 | recurring block on no weekday, or lasting no time (starting and ending at the same time, or `"24:00"` to `"00:00"`) |
//! | E030 | pinned booking that cannot be kept: it breaks a calendar rule, clashes with another pin, or needs a prerequisite or bundle mate with no room beside the pins |
//! | E031 | a request's own `preferred_provider` is not eligible for it (not of its specialty, or not in its `providers`): it could never be met; a refbench instance keeps the benchmark's reading, where it costs each appointment |

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use petgraph::graph::DiGraph;
use petgraph::unionfind::UnionFind;
use serde::{Deserialize, Serialize};

use crate::model::{DatedInterval, Input, Link, Modality, WeeklyWindows, Window, FORMAT_VERSION};
use crate::problem::{
    BlockIx, Day, ExistingIx, Interval, PatientIx, Precedence, Problem, ProviderIx, RequestIx,
    ResourceIx, SiteIx,
};
use crate::time::{BookingStart, DayOfWeek, LocalDateTime, LONGEST_SKIP_MIN, MINUTES_PER_DAY};

/// The largest objective weight accepted: with more, the objective of a large caseload could
/// overflow 64 bits.
pub const MAX_WEIGHT: i64 = 1_000_000_000;

/// Minutes beyond any planning week (more than a year). Minute quantities of the input (travel,
/// gaps, recovery, durations, instants far from the week) are capped at this in the indexed
/// [`Problem`]: a larger value means the same there (never within the week) and the solver's
/// minute arithmetic cannot overflow.
const FAR_MIN: i64 = 1_000_000;

/// `minutes` capped at [`FAR_MIN`].
fn far(minutes: u32) -> i32 {
    i64::from(minutes).min(FAR_MIN) as i32
}

/// The text without a leading byte-order mark (which some Windows editors write): it is not
/// part of the JSON.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIssue {
    /// Stable code, "E001".."E099" (see the module documentation).
    pub code: String,
    /// JSON path of the offending value, e.g. `requests[14].patient`.
    pub path: String,
    /// What is wrong, naming the ids involved.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl std::fmt::Display for InputIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error[{}] {}: {}\n  hint: {}",
            self.code, self.path, self.message, self.hint
        )
    }
}

/// Every problem found in an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{} problem(s) in the input", issues.len())]
pub struct ValidationReport {
    /// The problems, in input order.
    pub issues: Vec<InputIssue>,
}

impl ValidationReport {
    /// A report of one issue.
    pub fn single(
        code: &str,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        ValidationReport {
            issues: vec![InputIssue {
                code: code.into(),
                path: path.into(),
                message: message.into(),
                hint: hint.into(),
            }],
        }
    }
}

/// The message of a caseload that is a JSON array (E002 at `$`): a batch gives it its own
/// hint.
pub(crate) const JSON_ARRAY_MESSAGE: &str =
    "the input is a JSON array; a caseload is one JSON object {\"version\": 1, \"week\": …}";

/// The JSON path of a `serde_path_to_error` error, as written for the user: `$` for the
/// whole document, unknown segments (a key not read yet when the text ended) left out.
///
/// # Example
/// ```
/// use careweek::validate::json_error_path;
/// assert_eq!(json_error_path("providers[0].hours.mon[0]"), "providers[0].hours.mon[0]");
/// assert_eq!(json_error_path("."), "$");
/// assert_eq!(json_error_path("requests[2].?"), "requests[2]");
/// ```
pub fn json_error_path(raw: &str) -> String {
    let path = raw.replace(".?", "").replace('?', "");
    if path == "." || path.is_empty() {
        "$".to_string()
    } else {
        path
    }
}

/// Where the JSON `text` gives an array that serde read into a struct by position, as it
/// does with an array of the struct's length: `["2026-03-05T13:00", "2026-03-05T17:00",
/// "clinic"]` for an exception would be taken as its start, end and label without a word,
/// and the same values in another order as the wrong fields. Found by writing out what was
/// read (`read`), where such a struct is an object, and walking it beside the text; `None`
/// when every struct was given as an object (or `read` cannot be written out).
///
/// ```
/// use careweek::validate::array_read_as_object;
/// let text = r#"{"a": [{"x": 1}, [2]]}"#;
/// let read = serde_json::json!({"a": [{"x": 1}, {"x": 2}]});
/// assert_eq!(array_read_as_object(text, &read).as_deref(), Some("a[1]"));
/// assert_eq!(array_read_as_object(r#"{"a": [[1, 2]]}"#, &serde_json::json!({"a": [[1, 2]]})), None);
/// ```
pub fn array_read_as_object<T: serde::Serialize>(text: &str, read: &T) -> Option<String> {
    fn walk(given: &serde_json::Value, read: &serde_json::Value, path: &mut String) -> bool {
        use serde_json::Value;
        match (given, read) {
            (Value::Array(_), Value::Object(_)) => true,
            (Value::Array(given), Value::Array(read)) => {
                given.iter().zip(read).enumerate().any(|(i, (g, r))| {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let found = walk(g, r, path);
                    if !found {
                        path.truncate(len);
                    }
                    found
                })
            }
            (Value::Object(given), Value::Object(read)) => given.iter().any(|(key, g)| {
                let Some(r) = read.get(key) else {
                    return false;
                };
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                let found = walk(g, r, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let given: serde_json::Value = serde_json::from_str(without_bom(text)).ok()?;
    let read = serde_json::to_value(read).ok()?;
    let mut path = String::new();
    walk(&given, &read, &mut path).then(|| {
        if path.is_empty() {
            "$".to_string()
        } else {
            path
        }
    })
}

/// Whether serde_json's `message` at `path` is an array longer than a fixed-size form (a
/// window's two times), which it reports as trailing characters within the array: valid
/// JSON of the wrong shape, not a syntax error.
pub(crate) fn array_too_long(message: &str, path: &str) -> bool {
    message.starts_with("trailing characters") && path != "$"
}

/// serde's message on a value of the wrong type or length, in the words of JSON and of the
/// format instead of Rust's: "sequence" and "map" are an array and an object, a struct (a
/// Rust type name such as `RawLink`) is an object, and a window is two times.
///
/// ```
/// use careweek::validate::plain_type_message;
/// assert_eq!(
///     plain_type_message("invalid type: null, expected struct RawLink"),
///     "invalid type: null, expected an object"
/// );
/// assert_eq!(
///     plain_type_message("invalid length 0, expected struct Site with 3 elements"),
///     "invalid type: array, expected an object"
/// );
/// assert_eq!(
///     plain_type_message("invalid length 1, expected tuple struct Window with 2 elements"),
///     "a window is two times, [\"08:00\", \"12:00\"]; this one has 1"
/// );
/// assert_eq!(
///     plain_type_message("invalid type: map, expected a sequence"),
///     "invalid type: object, expected an array"
/// );
/// ```
pub fn plain_type_message(message: &str) -> String {
    // serde_json's " at line L column C" is kept as it is, after the words.
    let (message, at) = match message.rfind(" at line ") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    plain_words(message) + at
}

fn plain_words(message: &str) -> String {
    const WINDOW: &str = "tuple struct Window with 2 elements";
    if let Some(rest) = message.strip_prefix("invalid length ") {
        if let Some((n, expected)) = rest.split_once(", expected ") {
            if expected == WINDOW {
                return format!("a window is two times, [\"08:00\", \"12:00\"]; this one has {n}");
            }
            if expected.starts_with("struct ") && expected.ends_with(" elements") {
                // Only an array is read by position into a struct.
                return "invalid type: array, expected an object".into();
            }
            if let Some(size) = expected
                .strip_prefix("a tuple of size ")
                .filter(|k| k.bytes().all(|b| b.is_ascii_digit()))
            {
                return format!("invalid length {n}, expected an array of {size} numbers");
            }
        }
    }
    let mut out = message
        .replace(
            "expected tuple struct Window",
            "expected a window [\"08:00\", \"12:00\"]",
        )
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: object")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected an object");
    while let Some(at) = out.find("expected struct ") {
        let name = at + "expected struct ".len();
        let end = out[name..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(out.len(), |k| name + k);
        out.replace_range(at..end, "expected an object");
    }
    out
}

/// What valid JSON `text` is when it is not an object ("a JSON array", "null", ...), for a
/// message: serde would otherwise blame a field the user never meant, or name a Rust type.
///
/// ```
/// use careweek::validate::json_other_than_object;
/// assert_eq!(json_other_than_object("[1]"), Some("a JSON array"));
/// assert_eq!(json_other_than_object("{}"), None);
/// assert_eq!(json_other_than_object("nul"), None); // not JSON: a syntax error to report
/// ```
pub fn json_other_than_object(text: &str) -> Option<&'static str> {
    let first = text.trim_start().bytes().next()?;
    let kind = match first {
        b'{' => return None,
        b'[' => "a JSON array",
        b'"' => "a JSON string",
        b'n' => "null",
        b't' | b'f' => "a JSON true or false",
        _ => "a JSON number",
    };
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .is_ok()
        .then_some(kind)
}

/// Parses JSON text into an [`Input`]; a syntax, type or unknown-field error names its path.
///
/// # Errors
/// A [`ValidationReport`] with one issue (serde stops at the first error): E001 syntax,
/// E002 type or value, E003 unknown field.
///
/// # Example
/// ```
/// let err = careweek::parse_input(r#"{"version": 1, "wek": {}}"#).unwrap_err();
/// assert_eq!(err.issues[0].code, "E003");
/// assert_eq!(err.issues[0].path, "wek");
/// ```
pub fn parse_input(text: &str) -> Result<Input, ValidationReport> {
    let text = without_bom(text);
    if text.trim().is_empty() {
        return Err(ValidationReport::single(
            "E001",
            "$",
            "the input is empty",
            "pass a caseload: one JSON object {\"version\": 1, \"week\": …} (see data/example-week.json); an empty file or pipe is usually a step before that failed",
        ));
    }
    // serde would read an array as the fields in order and blame a field the user never
    // meant ("[0]: expected u32"); say what is wrong instead.
    if text.trim_start().starts_with('[') {
        return Err(ValidationReport::single(
            "E002",
            "$",
            JSON_ARRAY_MESSAGE,
            "pass one caseload per file; for many, use `careweek solve-batch` with a directory or a JSON-lines file (one object per line)",
        ));
    }
    if let Some(kind) = json_other_than_object(text) {
        return Err(ValidationReport::single(
            "E002",
            "$",
            format!("the input is {kind}; a caseload is one JSON object {{\"version\": 1, \"week\": …}}"),
            "pass the caseload's JSON object (see data/example-week.json)",
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed: Result<Input, _> = serde_path_to_error::deserialize(&mut de);
    if parsed.is_ok() {
        if let Err(e) = de.end() {
            return Err(ValidationReport::single(
                "E001",
                "$",
                e.to_string(),
                "remove what follows the top-level object",
            ));
        }
    }
    if let Some(path) = parsed
        .as_ref()
        .ok()
        .and_then(|input| array_read_as_object(text, input))
    {
        return Err(ValidationReport::single(
            "E002",
            path,
            "invalid type: array, expected an object",
            "write this value as an object with named fields (see data/example-week.json): an array would be read by position",
        ));
    }
    parsed.map_err(|e| {
        let path = json_error_path(&e.path().to_string());
        let inner = e.into_inner();
        let msg = plain_type_message(&inner.to_string());
        let too_long = array_too_long(&msg, &path);
        let short_window = msg.starts_with("a window is two times");
        let (code, hint) = match inner.classify() {
            serde_json::error::Category::Syntax if too_long => {
                (
                    "E002",
                    "give exactly the elements the field takes: a window is two times, [\"08:00\", \"12:00\"]"
                        .to_string(),
                )
            }
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => (
                "E001",
                format!(
                    "fix the JSON syntax at line {}, column {}",
                    inner.line(),
                    inner.column()
                ),
            ),
            serde_json::error::Category::Data if msg.starts_with("unknown field") => (
                "E003",
                "remove or rename the field: names are snake_case and listed in the README"
                    .to_string(),
            ),
            serde_json::error::Category::Data if short_window => (
                "E002",
                "give exactly the elements the field takes: a window is two times, [\"08:00\", \"12:00\"]"
                    .to_string(),
            ),
            serde_json::error::Category::Data if msg.starts_with("missing field") => {
                ("E002", "add the required field".to_string())
            }
            serde_json::error::Category::Data => (
                "E002",
                "give a value of the documented type and form".to_string(),
            ),
        };
        // serde_json appends " at line L column C"; the path already says where.
        let message = match msg.rfind(" at line ") {
            _ if too_long => "more elements than this array takes".to_string(),
            Some(i) if code != "E001" => msg[..i].to_string(),
            _ => msg,
        };
        ValidationReport::single(code, path, message, hint)
    })
}

/// Checks an input and builds its indexed form.
///
/// # Errors
/// A [`ValidationReport`] listing every problem found, in input order.
///
/// # Example
/// ```
/// let input = careweek::generate(&careweek::GenerateOptions { patients: 3, seed: 1, grid_min: 15 });
/// let problem = careweek::validate(input).expect("generated caseloads are valid");
/// assert_eq!(problem.days.len(), 6);
/// ```
pub fn validate(input: Input) -> Result<Problem, ValidationReport> {
    validate_as(input, Rules::Careweek)
}

/// Which format's rules an input is checked by, where the two differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// careweek's own: a request's preferred provider must be eligible for it (E031).
    Careweek,
    /// A refbench instance's: a request's preferred provider may be one not eligible for
    /// it, costing each of its appointments the preference's weight, as the benchmark
    /// reads it.
    Refbench,
}

/// [`validate`] under the `rules` of the format the input came in
/// ([`crate::batch::parse_caseload_as`] tells which).
///
/// # Errors
/// A [`ValidationReport`] listing every problem found, in input order.
///
/// # Example
/// ```
/// use careweek::validate::{validate_as, Rules};
/// let input = careweek::generate(&careweek::GenerateOptions { patients: 3, seed: 1, grid_min: 15 });
/// assert!(validate_as(input, Rules::Careweek).is_ok());
/// ```
pub fn validate_as(input: Input, rules: Rules) -> Result<Problem, ValidationReport> {
    let mut v = Validator {
        input: &input,
        issues: Vec::new(),
        rules,
    };
    let ctx = v.check();
    if !v.issues.is_empty() {
        return Err(ValidationReport { issues: v.issues });
    }
    let ctx = ctx.expect("a context exists when there is no issue");
    let problem = build(&input, &ctx);
    let broken = crate::solve::pins::broken_pins(&problem);
    if !broken.is_empty() {
        let issues = broken
            .into_iter()
            .map(|b| {
                let req = &input.requests[b.request];
                let e = req.existing.as_ref().expect("a pin has a booking");
                InputIssue {
                    code: "E030".into(),
                    path: format!("requests[{}].existing", b.request),
                    message: format!(
                        "pinned booking of request '{}' with '{}' at {} cannot be kept: {}",
                        req.id, e.provider, e.start, b.reason
                    ),
                    hint: "unpin it (\"pinned\": false) so that it can be moved, or fix the calendar that rules it out".into(),
                }
            })
            .collect();
        return Err(ValidationReport { issues });
    }
    Ok(problem)
}

/// Resolved basics every later check needs.
struct Ctx {
    tz: Tz,
    site_tz: Vec<Tz>,
    origin: DateTime<Utc>,
}

struct Validator<'a> {
    input: &'a Input,
    issues: Vec<InputIssue>,
    rules: Rules,
}

/// Why a pinned booking of request `r` with `provider` should not hold resource `unit`,
/// with what to do, if it should not. Interpreters are booked as the patient's language
/// (`language`) needs, unless the request names the kind: one in the patient's language,
/// with a provider who does not speak it. Any other kind must be one the request needs.
fn unneeded_unit(
    unit: &crate::model::Resource,
    r: &crate::model::Request,
    provider: Option<&crate::model::Provider>,
    language: Option<&str>,
) -> Option<(String, String)> {
    let Some(held) = unit.language.as_deref() else {
        let kind = &unit.kind;
        return (!r.resources.contains(kind)).then(|| {
            (
                format!(
                    "pinned booking of request '{}' holds '{}', a {kind}, which the request does not need",
                    r.id, unit.id
                ),
                format!("add \"{kind}\" to the request's resources, or drop '{}' from the booking", unit.id),
            )
        });
    };
    // A request that lists the kind itself takes an interpreter of any language.
    if unit.kind != "interpreter" || r.resources.iter().any(|k| k == "interpreter") {
        return None;
    }
    let speaks =
        |l: &str| provider.is_some_and(|p| p.languages.iter().any(|x| x.eq_ignore_ascii_case(l)));
    let why = match language {
        Some(own) if speaks(own) => format!(
            "'{}' speaks {own}, the patient's language",
            provider.map_or("", |p| p.id.as_str())
        ),
        Some(own) if !held.eq_ignore_ascii_case(own) => format!("the patient's language is {own}"),
        Some(_) => return None,
        None => "the patient has no language set".to_string(),
    };
    Some((
        format!(
            "pinned booking of request '{}' holds '{}', an interpreter it does not need ({why})",
            r.id, unit.id
        ),
        format!("drop '{}' from the booking", unit.id),
    ))
}

fn index_of<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        map.entry(id).or_insert(i);
    }
    map
}

impl<'a> Validator<'a> {
    fn push(
        &mut self,
        code: &str,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.issues.push(InputIssue {
            code: code.into(),
            path: path.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn unknown(
        &mut self,
        code: &str,
        path: String,
        what: &str,
        id: &str,
        known: &HashMap<&str, usize>,
    ) {
        let similar = known
            .keys()
            .filter(|k| k.eq_ignore_ascii_case(id))
            .min()
            .copied();
        // An id copied with a space before or after it (or a tab, a line end).
        let spaced = known
            .keys()
            .filter(|k| k.trim().eq_ignore_ascii_case(id.trim()))
            .min()
            .copied();
        let hint = match (similar, spaced) {
            (Some(s), _) => format!("ids are case-sensitive; did you mean '{s}'?"),
            (None, Some(s)) => format!(
                "ids match exactly, spaces included: did you mean '{s}'? (this reference has {} characters, that id {})",
                id.chars().count(),
                s.chars().count()
            ),
            (None, None) => {
                format!("ids are case-sensitive; add a {what} with id '{id}' or fix the reference")
            }
        };
        self.push(code, path, format!("no {what} '{id}'"), hint);
    }

    fn duplicates<'b>(&mut self, list: &str, ids: impl Iterator<Item = &'b str>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.enumerate() {
            // An empty id names nothing in the schedule ("request": "") or in a message.
            if id.trim().is_empty() {
                self.push(
                    "E002",
                    format!("{list}[{i}].id"),
                    format!(
                        "{list}[{i}] has an empty id{}",
                        if id.is_empty() { "" } else { " (only spaces)" }
                    ),
                    "give every entry an id of its own, as the records it comes from name it",
                );
            }
            if let Some(first) = seen.get(id) {
                self.push(
                    "E008",
                    format!("{list}[{i}].id"),
                    format!("duplicate id '{id}' (also {list}[{first}])"),
                    "give every entry a unique id",
                );
            } else {
                seen.insert(id, i);
            }
        }
    }

    fn zone(&mut self, name: &str, path: String) -> Option<Tz> {
        match name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.push(
                    "E005",
                    path,
                    format!("unknown time zone '{name}'"),
                    "use an IANA time zone name such as \"America/New_York\" or \"Europe/Paris\"",
                );
                None
            }
        }
    }

    /// A zone whose UTC offset is not whole minutes at some point of the week (local mean
    /// time, as in Monrovia until 1972) is refused: the schedule's times carry their offset
    /// in whole minutes, so every appointment would come back off the grid.
    fn whole_minute_offsets(&mut self, tz: Tz, path: String, week: (NaiveDate, NaiveDate)) {
        let (Some(from), Some(to)) = (week.0.pred_opt(), week.1.checked_add_days(Days::new(2)))
        else {
            return;
        };
        let mut t = from.and_time(chrono::NaiveTime::MIN);
        let end = to.and_time(chrono::NaiveTime::MIN);
        while t < end {
            let offset = tz.offset_from_utc_datetime(&t).fix().local_minus_utc();
            if offset % 60 != 0 {
                let sign = if offset < 0 { "-" } else { "+" };
                let a = offset.unsigned_abs();
                self.push(
                    "E005",
                    path,
                    format!(
                        "time zone '{tz}' is {sign}{:02}:{:02}:{:02} from UTC on {} (not whole minutes): appointment times could not be written exactly",
                        a / 3600,
                        a / 60 % 60,
                        a % 60,
                        t.date()
                    ),
                    "plan the week in a zone whose offset is whole minutes then (or a later year of this one)",
                );
                return;
            }
            t += chrono::Duration::hours(1);
        }
    }

    fn windows(&mut self, path: &str, weekly: &WeeklyWindows) {
        for (day, ws) in weekly {
            self.window_list(&format!("{path}.{}", day_key(*day)), ws);
        }
    }

    fn window_list(&mut self, path: &str, ws: &[Window]) {
        for (i, w) in ws.iter().enumerate() {
            if w.1 <= w.0 {
                self.push(
                    "E015",
                    format!("{path}[{i}]"),
                    format!("window {}–{} ends at or before it starts", w.0, w.1),
                    "write windows as [start, end] with end after start; split a window that crosses midnight",
                );
            }
        }
    }

    fn dated(&mut self, path: &str, iv: &DatedInterval, week: (NaiveDate, NaiveDate)) {
        if iv.end <= iv.start {
            self.push(
                "E015",
                path.to_string(),
                format!(
                    "interval {} – {} ends at or before it starts",
                    iv.start, iv.end
                ),
                "the end must be after the start",
            );
        } else if iv.end.date() < week.0
            || (iv.end.date() == week.0 && iv.end.minute_of_day() == 0)
            || iv.start.date() > week.1
        {
            self.push(
                "E021",
                path.to_string(),
                format!(
                    "interval {} – {} lies outside the week {} – {}",
                    iv.start, iv.end, week.0, week.1
                ),
                "check the year and month, or leave it out",
            );
        }
    }

    fn check(&mut self) -> Option<Ctx> {
        let input = self.input;
        if input.version != FORMAT_VERSION {
            self.push(
                "E004",
                "version",
                format!("format version {} is not supported", input.version),
                format!("this release reads version {FORMAT_VERSION}"),
            );
        }
        let tz = self.zone(&input.week.timezone, "week.timezone".into());
        if !(1..=7).contains(&input.week.days) {
            self.push(
                "E006",
                "week.days",
                format!("{} days", input.week.days),
                "plan 1 to 7 days (6 = Monday to Saturday)",
            );
        }
        if ![5, 10, 15, 30, 60].contains(&input.week.grid_min) {
            self.push(
                "E007",
                "week.grid_min",
                format!("grid of {} minutes", input.week.grid_min),
                "use 5, 10, 15, 30 or 60",
            );
        }
        let days = input.week.days.clamp(1, 7) as u64;
        let first = input.week.start;
        // Before 1900 the time zone database gives local mean time, offsets with seconds
        // that put every appointment off the minute grid; after 2200 it only extrapolates.
        if !(1900..=2200).contains(&first.year()) {
            self.push(
                "E002",
                "week.start",
                format!("week start {first} is not a date of the years 1900 to 2200"),
                "check the year of week.start",
            );
        }
        let last = first.checked_add_days(Days::new(days - 1)).unwrap_or(first);
        let week = (first, last);
        let grid = input.week.grid_min.max(1);
        // (A year out of range is reported once, above, not again for its offsets.)
        let in_range = (1900..=2200).contains(&first.year());
        if let Some(tz) = tz.filter(|_| in_range) {
            self.whole_minute_offsets(tz, "week.timezone".into(), week);
        }

        let w = &input.weights;
        for (name, value) in [
            ("unplaced_per_priority", w.unplaced_per_priority),
            ("trip", w.trip),
            ("idle_per_min", w.idle_per_min),
            ("part_of_day", w.part_of_day),
            ("provider", w.provider),
            ("preferred_day", w.preferred_day),
            ("moved", w.moved),
        ] {
            if value < 0 {
                self.push(
                    "E028",
                    format!("weights.{name}"),
                    format!("negative weight {value}"),
                    "weights are costs: use 0 or more",
                );
            } else if value > MAX_WEIGHT {
                self.push(
                    "E028",
                    format!("weights.{name}"),
                    format!("weight {value} is above {MAX_WEIGHT}: the objective would overflow"),
                    "weights only matter relative to each other: scale them all down",
                );
            }
        }

        // Sites.
        self.duplicates("sites", input.sites.iter().map(|s| s.id.as_str()));
        let sites = index_of(input.sites.iter().map(|s| s.id.as_str()));
        let mut site_tz = Vec::new();
        for (i, s) in input.sites.iter().enumerate() {
            let z = match &s.timezone {
                Some(name) => {
                    let path = format!("sites[{i}].timezone");
                    let z = self.zone(name, path.clone());
                    if let Some(z) = z.filter(|&z| in_range && Some(z) != tz) {
                        self.whole_minute_offsets(z, path, week);
                    }
                    z
                }
                None => tz,
            };
            site_tz.push(z.or(tz).unwrap_or(Tz::UTC));
        }
        let mut pairs: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (i, t) in input.travel.iter().enumerate() {
            let a = sites.get(t.from.as_str()).copied();
            let b = sites.get(t.to.as_str()).copied();
            if a.is_none() {
                self.unknown("E009", format!("travel[{i}].from"), "site", &t.from, &sites);
            }
            if b.is_none() {
                self.unknown("E009", format!("travel[{i}].to"), "site", &t.to, &sites);
            }
            if let (Some(a), Some(b)) = (a, b) {
                if a == b {
                    self.push(
                        "E014",
                        format!("travel[{i}]"),
                        format!("travel from site '{}' to itself", t.from),
                        "remove it: travel within a site is 0",
                    );
                } else if let Some(prev) = pairs.insert((a.min(b), a.max(b)), i) {
                    self.push(
                        "E014",
                        format!("travel[{i}]"),
                        format!(
                            "travel between '{}' and '{}' given twice (also travel[{prev}])",
                            t.from, t.to
                        ),
                        "give each pair of sites once: travel is symmetric",
                    );
                }
            }
        }
        for a in 0..input.sites.len() {
            for b in a + 1..input.sites.len() {
                if !pairs.contains_key(&(a, b))
                    && sites.get(input.sites[a].id.as_str()) == Some(&a)
                    && sites.get(input.sites[b].id.as_str()) == Some(&b)
                {
                    self.push(
                        "E014",
                        "travel",
                        format!(
                            "no travel time between sites '{}' and '{}'",
                            input.sites[a].id, input.sites[b].id
                        ),
                        "add {\"from\", \"to\", \"minutes\"} for every pair of distinct sites",
                    );
                }
            }
        }

        // Providers.
        self.duplicates("providers", input.providers.iter().map(|p| p.id.as_str()));
        let providers = index_of(input.providers.iter().map(|p| p.id.as_str()));
        for (i, p) in input.providers.iter().enumerate() {
            if !sites.contains_key(p.site.as_str()) {
                self.unknown(
                    "E009",
                    format!("providers[{i}].site"),
                    "site",
                    &p.site,
                    &sites,
                );
            }
            self.windows(&format!("providers[{i}].hours"), &p.hours);
            for (j, e) in p.exceptions.iter().enumerate() {
                self.dated(&format!("providers[{i}].exceptions[{j}]"), e, week);
            }
            for (j, e) in p.bookings.iter().enumerate() {
                self.dated(&format!("providers[{i}].bookings[{j}]"), e, week);
            }
        }

        // Resources.
        self.duplicates("resources", input.resources.iter().map(|r| r.id.as_str()));
        let resources = index_of(input.resources.iter().map(|r| r.id.as_str()));
        for (i, r) in input.resources.iter().enumerate() {
            if let Some(s) = &r.site {
                if !sites.contains_key(s.as_str()) {
                    self.unknown("E009", format!("resources[{i}].site"), "site", s, &sites);
                }
            }
            if let Some(h) = &r.hours {
                self.windows(&format!("resources[{i}].hours"), h);
            }
            for (j, e) in r.exceptions.iter().enumerate() {
                self.dated(&format!("resources[{i}].exceptions[{j}]"), e, week);
            }
        }

        // Patients.
        self.duplicates("patients", input.patients.iter().map(|p| p.id.as_str()));
        let patients = index_of(input.patients.iter().map(|p| p.id.as_str()));
        for (i, q) in input.patients.iter().enumerate() {
            if let Some(a) = &q.availability {
                self.windows(&format!("patients[{i}].availability"), a);
            }
            if q.language.as_deref().is_some_and(|l| l.trim().is_empty()) {
                self.push(
                    "E002",
                    format!("patients[{i}].language"),
                    format!("patient '{}' has an empty language", q.id),
                    "give the language the patient needs an interpreter for (e.g. \"es\"), or leave the field out",
                );
            }
            for (j, o) in q.availability_overrides.iter().enumerate() {
                if let Some(k) = q.availability_overrides[..j]
                    .iter()
                    .position(|other| other.date == o.date)
                {
                    self.push(
                        "E008",
                        format!("patients[{i}].availability_overrides[{j}].date"),
                        format!(
                            "patient '{}' has two availability overrides for {} (also availability_overrides[{k}]); only one could apply",
                            q.id, o.date
                        ),
                        "merge their windows into one override for that date",
                    );
                }
                if o.date < week.0 || o.date > week.1 {
                    self.push(
                        "E021",
                        format!("patients[{i}].availability_overrides[{j}].date"),
                        format!(
                            "date {} is outside the week {} – {}",
                            o.date, week.0, week.1
                        ),
                        "check the date, or leave the override out",
                    );
                }
                self.window_list(
                    &format!("patients[{i}].availability_overrides[{j}].windows"),
                    &o.windows,
                );
            }
            for (j, b) in q.blocks.iter().enumerate() {
                // An earlier end runs past midnight, but "24:00" to "00:00" is no time at all.
                let no_time = b.start == b.end
                    || (b.start.minutes() == MINUTES_PER_DAY && b.end.minutes() == 0);
                if b.days.is_empty() || no_time {
                    self.push(
                        "E029",
                        format!("patients[{i}].blocks[{j}]"),
                        format!("recurring block '{}' recurs on no weekday or has no length", b.label.as_deref().unwrap_or("block")),
                        "list the weekdays and give an end different from the start (an earlier end runs past midnight)",
                    );
                }
            }
            for (j, e) in q.dated_blocks.iter().enumerate() {
                self.dated(&format!("patients[{i}].dated_blocks[{j}]"), e, week);
            }
            if let Some(pp) = &q.preferred_provider {
                if !providers.contains_key(pp.as_str()) {
                    self.unknown(
                        "E010",
                        format!("patients[{i}].preferred_provider"),
                        "provider",
                        pp,
                        &providers,
                    );
                }
            }
        }

        // Resource kinds present.
        let kinds: Vec<&str> = input.resources.iter().map(|r| r.kind.as_str()).collect();

        // Requests.
        self.duplicates("requests", input.requests.iter().map(|r| r.id.as_str()));
        let requests = index_of(input.requests.iter().map(|r| r.id.as_str()));
        for (i, r) in input.requests.iter().enumerate() {
            let path = format!("requests[{i}]");
            if !patients.contains_key(r.patient.as_str()) {
                self.unknown(
                    "E012",
                    format!("{path}.patient"),
                    "patient",
                    &r.patient,
                    &patients,
                );
            }
            let mut eligible = Vec::new();
            for (j, p) in r.providers.iter().enumerate() {
                match providers.get(p.as_str()) {
                    Some(&k) => eligible.push(k),
                    None => self.unknown(
                        "E010",
                        format!("{path}.providers[{j}]"),
                        "provider",
                        p,
                        &providers,
                    ),
                }
            }
            if r.providers.is_empty() {
                match &r.specialty {
                    Some(s) => eligible.extend(input.providers.iter().enumerate().filter(|(_, p)| &p.specialty == s).map(|(k, _)| k)),
                    None => self.push(
                        "E018",
                        path.clone(),
                        format!("request '{}' names neither a specialty nor providers", r.id),
                        "add \"specialty\" (any provider of it) or \"providers\" (a list of provider ids)",
                    ),
                }
            }
            let grid_ok = [5, 10, 15, 30, 60].contains(&input.week.grid_min);
            if r.duration_min == 0 || (grid_ok && r.duration_min % grid != 0) {
                self.push(
                    "E016",
                    format!("{path}.duration_min"),
                    format!("duration {} min of request '{}' is not a positive multiple of the {grid}-minute grid", r.duration_min, r.id),
                    format!("round it to a multiple of {grid}"),
                );
            }
            if !(1..=5).contains(&r.priority) {
                self.push(
                    "E019",
                    format!("{path}.priority"),
                    format!("priority {} of request '{}'", r.priority, r.id),
                    "use 1 (routine) to 5 (urgent)",
                );
            }
            if let (Some(e), Some(l)) = (r.earliest, r.latest) {
                if e > l {
                    self.push(
                        "E020",
                        format!("{path}.earliest"),
                        format!("earliest {e} is after latest {l}"),
                        "swap them or fix one date",
                    );
                }
            }
            if r.earliest.is_some_and(|e| e > week.1) || r.latest.is_some_and(|l| l < week.0) {
                self.push(
                    "E020",
                    format!(
                        "{path}.{}",
                        if r.earliest.is_some_and(|e| e > week.1) {
                            "earliest"
                        } else {
                            "latest"
                        }
                    ),
                    format!(
                        "the date window of request '{}' misses the week {} – {}",
                        r.id, week.0, week.1
                    ),
                    "plan it in the week it is due, or fix the date",
                );
            }
            if let Some(pp) = &r.preferred_provider {
                match providers.get(pp.as_str()) {
                    None => self.unknown(
                        "E010",
                        format!("{path}.preferred_provider"),
                        "provider",
                        pp,
                        &providers,
                    ),
                    // A preference no booking can meet would cost every booking of the
                    // request without a word: most likely the wrong provider was named.
                    Some(k)
                        if self.rules == Rules::Careweek
                            && !eligible.is_empty()
                            && !eligible.contains(k) =>
                    {
                        let mut names: Vec<&str> = eligible
                            .iter()
                            .map(|&e| input.providers[e].id.as_str())
                            .collect();
                        names.sort_unstable();
                        names.dedup();
                        let more = names.len().saturating_sub(3);
                        let listed = names[..names.len().min(3)].join("', '");
                        self.push(
                            "E031",
                            format!("{path}.preferred_provider"),
                            format!("request '{}' prefers '{pp}', who is not eligible for it", r.id),
                            format!(
                                "name one of its eligible providers ('{listed}'{}) or leave the preference out",
                                if more > 0 { format!(" and {more} more") } else { String::new() }
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            for (j, k) in r.resources.iter().enumerate() {
                if !kinds.contains(&k.as_str()) {
                    self.push(
                        "E024",
                        format!("{path}.resources[{j}]"),
                        format!("no resource of kind '{k}' (request '{}')", r.id),
                        "add a resource of that kind or fix the kind's spelling",
                    );
                }
            }
            if let Some(e) = &r.existing {
                let ep = format!("{path}.existing");
                match providers.get(e.provider.as_str()) {
                    None => self.unknown("E010", format!("{ep}.provider"), "provider", &e.provider, &providers),
                    Some(k) if e.pinned && !eligible.contains(k) && !eligible.is_empty() => self.push(
                        "E023",
                        format!("{ep}.provider"),
                        format!("pinned booking of request '{}' is with '{}', who is not eligible for it", r.id, e.provider),
                        "name that provider in the request's providers, or unpin the booking",
                    ),
                    Some(_) => {}
                }
                for (j, u) in e.resources.iter().enumerate() {
                    match resources.get(u.as_str()) {
                        None => self.unknown(
                            "E011",
                            format!("{ep}.resources[{j}]"),
                            "resource",
                            u,
                            &resources,
                        ),
                        Some(&k) => {
                            let provider = providers
                                .get(e.provider.as_str())
                                .map(|&p| &input.providers[p]);
                            let language = patients
                                .get(r.patient.as_str())
                                .and_then(|&q| input.patients[q].language.as_deref());
                            let unit = &input.resources[k];
                            if let Some((message, hint)) = e
                                .pinned
                                .then(|| unneeded_unit(unit, r, provider, language))
                                .flatten()
                            {
                                self.push("E022", format!("{ep}.resources[{j}]"), message, hint);
                            }
                        }
                    }
                }
                if e.modality.unwrap_or(r.modality) == Modality::Either {
                    self.push(
                        "E022",
                        format!("{ep}.modality"),
                        format!("existing booking of request '{}' does not say whether it is in person or telehealth", r.id),
                        "set existing.modality to \"in_person\" or \"telehealth\"",
                    );
                }
                // The schedule gives an in-person start in its site's zone: one copied
                // from there, offset included, is read as the same instant on the week's
                // clock.
                let start = tz
                    .zip(
                        providers
                            .get(e.provider.as_str())
                            .and_then(|&k| sites.get(input.providers[k].site.as_str()))
                            .map(|&s| site_tz[s]),
                    )
                    .filter(|&(tz, _)| matches!(e.start.in_zone(&tz), LocalResult::None))
                    .and_then(|(tz, site)| e.start.moved_from(&site, &tz))
                    .unwrap_or(e.start);
                let date = start.date();
                let outside = |d: NaiveDate| d < week.0 || d > week.1;
                // An offset that is neither zone's leaves the wall clock written meaningless
                // for the week and grid checks (one copied from another zone may be dated the
                // day before the week, or off its grid, and yet name an instant in it and on
                // it): say so first, with that instant, unless neither the date written nor
                // the instant's is in the week (a far date, where the zone's offset then may
                // be a local mean time's that no offset can give).
                let offset_issue = tz
                    .filter(|_| start.offset().is_some())
                    .and_then(|tz| booking_start_issue(tz, &r.id, start));
                let named = tz
                    .and_then(|tz| {
                        start
                            .instant(&tz)
                            .map(|t| t.with_timezone(&tz).date_naive())
                    })
                    .unwrap_or(date);
                if outside(date) && (offset_issue.is_none() || outside(named)) {
                    self.push(
                        "E022",
                        format!("{ep}.start"),
                        format!(
                            "existing booking of request '{}' at {} is outside the week",
                            r.id, start
                        ),
                        "drop the existing booking or plan the week that holds it",
                    );
                } else if let Some((message, hint)) = offset_issue {
                    self.push("E022", format!("{ep}.start"), message, hint);
                } else if !start.minute_of_day().is_multiple_of(grid) || start.naive().second() != 0
                {
                    self.push(
                        "E022",
                        format!("{ep}.start"),
                        format!(
                            "existing booking of request '{}' at {} is off the {grid}-minute grid",
                            r.id,
                            // Seconds are not shown otherwise, and would be dropped.
                            start.naive().format(if start.naive().second() == 0 {
                                "%Y-%m-%dT%H:%M"
                            } else {
                                "%Y-%m-%dT%H:%M:%S"
                            })
                        ),
                        "use a finer grid_min or round the booking",
                    );
                } else if let Some(tz) = tz {
                    if let Some((message, hint)) = booking_start_issue(tz, &r.id, start) {
                        self.push("E022", format!("{ep}.start"), message, hint);
                    }
                }
            }
        }

        // Links.
        let mut graph = DiGraph::<usize, ()>::new();
        let nodes: Vec<_> = (0..input.requests.len())
            .map(|i| graph.add_node(i))
            .collect();
        for (i, link) in input.links.iter().enumerate() {
            let path = format!("links[{i}]");
            let member = |v: &mut Self, field: String, id: &str| -> Option<usize> {
                let found = requests.get(id).copied();
                if found.is_none() {
                    v.unknown("E013", format!("{path}.{field}"), "request", id, &requests);
                }
                found
            };
            match link {
                Link::Precedence {
                    before,
                    after,
                    min_gap_min,
                    max_gap_min,
                } => {
                    let b = member(self, "before".into(), before);
                    let a = member(self, "after".into(), after);
                    if max_gap_min.is_some_and(|m| m < *min_gap_min) {
                        self.push(
                            "E025",
                            format!("{path}.max_gap_min"),
                            format!(
                                "max_gap_min {} is below min_gap_min {min_gap_min}",
                                max_gap_min.unwrap_or(0)
                            ),
                            "make max_gap_min at least min_gap_min",
                        );
                    }
                    if let (Some(b), Some(a)) = (b, a) {
                        if a == b {
                            self.push(
                                "E025",
                                path.clone(),
                                format!("request '{before}' precedes itself"),
                                "link two different requests",
                            );
                        } else {
                            graph.add_edge(nodes[b], nodes[a], ());
                        }
                    }
                }
                Link::BackToBack { first, second, .. } => {
                    let b = member(self, "first".into(), first);
                    let a = member(self, "second".into(), second);
                    if let (Some(b), Some(a)) = (b, a) {
                        if a == b {
                            self.push(
                                "E025",
                                path.clone(),
                                format!("request '{first}' follows itself"),
                                "link two different requests",
                            );
                        } else {
                            graph.add_edge(nodes[b], nodes[a], ());
                        }
                    }
                }
                Link::SameDay { requests: members } => {
                    for (j, id) in members.iter().enumerate() {
                        member(self, format!("requests[{j}]"), id);
                    }
                    let mut distinct: Vec<&str> = members.iter().map(String::as_str).collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    if distinct.len() < 2 {
                        self.push(
                            "E027",
                            format!("{path}.requests"),
                            format!(
                                "a same_day link needs two or more different requests; it has {}",
                                if distinct.is_empty() {
                                    "none".to_string()
                                } else {
                                    format!("only '{}'", distinct[0])
                                }
                            ),
                            "add the other requests or remove the link",
                        );
                    }
                }
            }
        }
        for scc in petgraph::algo::tarjan_scc(&graph) {
            if scc.len() < 2 {
                continue;
            }
            let mut members: Vec<usize> = scc.iter().map(|n| graph[*n]).collect();
            members.sort_unstable();
            let cycle = cycle_through(&graph, &nodes, &members);
            let names: Vec<&str> = cycle
                .iter()
                .map(|&r| input.requests[r].id.as_str())
                .collect();
            self.push(
                "E026",
                "links",
                // Precedence and back_to_back links both order their requests.
                format!(
                    "cycle of ordering links (precedence, back_to_back) {} -> {}",
                    names.join(" -> "),
                    names[0]
                ),
                "remove or reverse one of these links: no order can satisfy them all",
            );
        }

        let tz = tz?;
        let origin = instant(tz, input.week.start, 0);
        Some(Ctx {
            tz,
            site_tz,
            origin,
        })
    }
}

/// Why an existing booking's start (on the grid, in the week) names no instant in the week's
/// zone `tz`, if it does not: a local time the clocks skip, or a UTC offset that is not the
/// zone's at that local time (a message and a hint).
fn booking_start_issue(tz: Tz, request: &str, start: BookingStart) -> Option<(String, String)> {
    if !matches!(start.in_zone(&tz), LocalResult::None) {
        return None;
    }
    let local = start.local;
    let Some(given) = start.offset() else {
        return Some((
            format!(
                "existing booking of request '{request}' at {local} is at a time that does not exist in {tz}: the clocks skip it"
            ),
            "give the start as the clocks show it: a booking just after the change starts at its first minute".into(),
        ));
    };
    // The instant the offset names, as the zone's clocks show it: what was meant when the
    // start was copied from a site in another zone.
    let named = start
        .instant(&tz)
        .map(|t| t.with_timezone(&tz))
        .map(|t| {
            format!(
                "; the instant written is {} there",
                t.format("%Y-%m-%dT%H:%M%:z")
            )
        })
        .unwrap_or_default();
    Some(match tz.from_local_datetime(&start.naive()) {
        LocalResult::Single(t) => {
            let zone = t.offset().fix();
            (
                format!(
                    "existing booking of request '{request}' at {start} gives the UTC offset {given}, but {tz} is at {zone} at {local}"
                ),
                format!("give the zone's offset at that time, {zone}, or drop the offset{named}"),
            )
        }
        LocalResult::Ambiguous(a, b) => {
            let (first, second) = (a.offset().fix(), b.offset().fix());
            (
                format!(
                    "existing booking of request '{request}' at {start} gives the UTC offset {given}, but {tz} is at {first} at {local} and, when the hour repeats, at {second}"
                ),
                format!(
                    "give the zone's offset at that time, {first} for the first {} or {second} for the second, or drop the offset (the first){named}",
                    local.0.format("%H:%M")
                ),
            )
        }
        LocalResult::None => {
            // The zone's offsets on either side of the gap (at most two days long).
            let side = |step: i64| {
                (1..=2 * 1440).find_map(|m| {
                    let t = start
                        .naive()
                        .checked_add_signed(chrono::Duration::minutes(step * m))?;
                    tz.from_local_datetime(&t)
                        .earliest()
                        .map(|t| t.offset().fix().to_string())
                })
            };
            let (before, after) = (side(-1), side(1));
            let change = match (before, after) {
                (Some(b), Some(a)) => format!(" (from {b} to {a})"),
                _ => String::new(),
            };
            (
                format!(
                    "existing booking of request '{request}' at {local} with the UTC offset {given} is at a time that does not exist in {tz}: the clocks skip it{change}"
                ),
                format!(
                    "give the start as the clocks show it: a booking just after the change starts at its first minute{named}"
                ),
            )
        }
    })
}

/// A cycle through the smallest member of a strongly connected set, in link order.
fn cycle_through(
    graph: &DiGraph<usize, ()>,
    nodes: &[petgraph::graph::NodeIndex],
    members: &[usize],
) -> Vec<usize> {
    let start = members[0];
    let mut path = vec![start];
    let mut seen = vec![start];
    // Depth-first inside the set until an edge returns to the start.
    fn dfs(
        graph: &DiGraph<usize, ()>,
        nodes: &[petgraph::graph::NodeIndex],
        members: &[usize],
        start: usize,
        path: &mut Vec<usize>,
        seen: &mut Vec<usize>,
    ) -> bool {
        let here = *path.last().expect("non-empty path");
        let mut next: Vec<usize> = graph.neighbors(nodes[here]).map(|n| graph[n]).collect();
        next.sort_unstable();
        for n in next {
            if n == start {
                return true;
            }
            if members.binary_search(&n).is_ok() && !seen.contains(&n) {
                seen.push(n);
                path.push(n);
                if dfs(graph, nodes, members, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    dfs(graph, nodes, members, start, &mut path, &mut seen);
    path
}

fn day_key(d: DayOfWeek) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.index()]
}

/// The instant of a local wall-clock time; a time skipped by a DST change (or a day skipped
/// whole) moves forward to the first valid instant, an ambiguous one takes the earlier.
pub(crate) fn instant(tz: Tz, date: NaiveDate, minute: u32) -> DateTime<Utc> {
    let date = date
        .checked_add_days(Days::new((minute / MINUTES_PER_DAY) as u64))
        .unwrap_or(date);
    let m = minute % MINUTES_PER_DAY;
    let naive = date
        .and_hms_opt(m / 60, m % 60, 0)
        .expect("minute of day below 1440");
    for shift in 0..=i64::from(LONGEST_SKIP_MIN) {
        let Some(t) = naive.checked_add_signed(chrono::Duration::minutes(shift)) else {
            break;
        };
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return x.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            LocalResult::None => continue,
        }
    }
    Utc.from_utc_datetime(&naive)
}

/// The absolute minute of a day `[start, end)` (minutes from `origin`) from which its clock
/// change holds: the first whose UTC offset differs from the day's first minute's, its
/// start when the change came at midnight (the day is short or long all the same), and
/// `end` when there is none.
fn clock_change(tz: Tz, origin: DateTime<Utc>, start: i32, end: i32) -> i32 {
    if end - start == MINUTES_PER_DAY as i32 {
        return end;
    }
    let offset = |t: i32| {
        let at = origin + chrono::Duration::minutes(i64::from(t));
        tz.offset_from_utc_datetime(&at.naive_utc()).fix()
    };
    let first = offset(start);
    (start + 1..end)
        .find(|&t| offset(t) != first)
        .unwrap_or(start)
}

fn build(input: &Input, ctx: &Ctx) -> Problem {
    let tz = ctx.tz;
    // An instant years away (a leave from 0001 to 9999) is as good as FAR_MIN away.
    let from_origin =
        |t: DateTime<Utc>| (t - ctx.origin).num_minutes().clamp(-FAR_MIN, FAR_MIN) as i32;
    let abs = |zone: Tz, date: NaiveDate, minute: u32| from_origin(instant(zone, date, minute));
    let abs_local = |zone: Tz, t: LocalDateTime| abs(zone, t.date(), t.minute_of_day());
    // The instant a booking's start names: with an offset, the week zone's occurrence it
    // picks or a site zone's (validation refused the others); without, the earlier.
    let abs_booking = |b: BookingStart| {
        b.instant(&tz)
            .map_or_else(|| abs_local(tz, b.local), from_origin)
    };
    let ndays = input.week.days as usize;
    let dates: Vec<NaiveDate> = (0..ndays)
        .map(|i| {
            input
                .week
                .start
                .checked_add_days(Days::new(i as u64))
                .expect("valid date")
        })
        .collect();
    let days: Vec<Day> = dates
        .iter()
        .map(|&date| {
            let (start, end) = (abs(tz, date, 0), abs(tz, date, MINUTES_PER_DAY));
            Day {
                date,
                weekday: DayOfWeek::of(date),
                start,
                end,
                clock_change: clock_change(tz, ctx.origin, start, end),
            }
        })
        .collect();
    let site_ix: HashMap<&str, usize> = index_of(input.sites.iter().map(|s| s.id.as_str()));
    let provider_ix = index_of(input.providers.iter().map(|p| p.id.as_str()));
    let resource_ix = index_of(input.resources.iter().map(|r| r.id.as_str()));
    let patient_ix = index_of(input.patients.iter().map(|p| p.id.as_str()));
    let request_ix = index_of(input.requests.iter().map(|r| r.id.as_str()));

    let ns = input.sites.len();
    let mut travel = vec![vec![0; ns]; ns];
    for t in &input.travel {
        let (a, b) = (site_ix[t.from.as_str()], site_ix[t.to.as_str()]);
        travel[a][b] = far(t.minutes);
        travel[b][a] = far(t.minutes);
    }

    // Windows of a weekly pattern on each day of the week, minus dated cuts, in a zone. The
    // pattern is laid out on the zone's own dates, from the day before the week to the day
    // after, then each window is filed under the week's day (in the week's zone) it falls
    // in, split at the week's midnights: a site behind or ahead of the week's zone works
    // in part on the week's next or previous date (a lab open Mon 20:00-21:00 in New York
    // in a week planned in UTC works Tue 01:00-02:00), and a day of the week is one
    // provider-day for the daily limits, the checker and the calendars.
    let weekly =
        |zone: Tz, hours: Option<&WeeklyWindows>, cuts: &[DatedInterval]| -> Vec<Vec<Interval>> {
            let cuts: Vec<Interval> = cuts
                .iter()
                .map(|c| Interval::new(abs_local(zone, c.start), abs_local(zone, c.end)))
                .collect();
            let Some(hours) = hours else {
                return days
                    .iter()
                    .map(|d| subtract(vec![Interval::new(d.start, d.end)], &cuts))
                    .collect();
            };
            let before = dates.first().and_then(|d| d.pred_opt());
            let after = dates.last().and_then(|d| d.succ_opt());
            let mut windows: Vec<Interval> = Vec::new();
            for date in before.into_iter().chain(dates.iter().copied()).chain(after) {
                for w in hours.get(&DayOfWeek::of(date)).into_iter().flatten() {
                    windows.push(Interval::new(
                        abs(zone, date, w.0.minutes()),
                        abs(zone, date, w.1.minutes()),
                    ));
                }
            }
            days.iter()
                .map(|d| {
                    let on_day: Vec<Interval> = windows
                        .iter()
                        .filter_map(|w| {
                            let (start, end) = (w.start.max(d.start), w.end.min(d.end));
                            (end > start).then(|| Interval::new(start, end))
                        })
                        .collect();
                    subtract(on_day, &cuts)
                })
                .collect()
        };

    let mut first_of_specialty: HashMap<&str, u32> = HashMap::new();
    let providers: Vec<ProviderIx> = input
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let site = site_ix[p.site.as_str()];
            let cuts: Vec<DatedInterval> =
                p.exceptions.iter().chain(&p.bookings).cloned().collect();
            ProviderIx {
                site,
                specialty: *first_of_specialty
                    .entry(p.specialty.as_str())
                    .or_insert(i as u32),
                free: weekly(ctx.site_tz[site], Some(&p.hours), &cuts),
                max_per_day: p.max_per_day,
            }
        })
        .collect();
    let resources: Vec<ResourceIx> = input
        .resources
        .iter()
        .map(|r| {
            let site = r.site.as_ref().map(|s| site_ix[s.as_str()]);
            let zone = site.map_or(tz, |s| ctx.site_tz[s]);
            ResourceIx {
                kind: r.kind.clone(),
                site,
                language: r.language.clone(),
                free: weekly(zone, r.hours.as_ref(), &r.exceptions),
            }
        })
        .collect();
    let patients: Vec<PatientIx> = input
        .patients
        .iter()
        .map(|q| {
            let mut available = weekly(tz, q.availability.as_ref(), &[]);
            for o in &q.availability_overrides {
                if let Some(i) = dates.iter().position(|&d| d == o.date) {
                    available[i] = o
                        .windows
                        .iter()
                        .map(|w| {
                            Interval::new(
                                abs(tz, o.date, w.0.minutes()),
                                abs(tz, o.date, w.1.minutes()),
                            )
                        })
                        .filter(|iv| iv.end > iv.start)
                        .collect();
                }
            }
            let mut blocks = Vec::new();
            let recovery = far(q.recovery_min);
            // The week before the horizon too: a night shift or its recovery may reach into
            // it (a recovery of days from a block two days before; a weekly block's earlier
            // weeks end their recovery sooner).
            let before = (1..=7u64)
                .rev()
                .filter_map(|n| input.week.start.checked_sub_days(Days::new(n)));
            for b in &q.blocks {
                for date in before.clone().chain(dates.iter().copied()) {
                    if !b.days.contains(&DayOfWeek::of(date)) {
                        continue;
                    }
                    let start = abs(tz, date, b.start.minutes());
                    let end = if b.end > b.start {
                        abs(tz, date, b.end.minutes())
                    } else {
                        abs(tz, date, b.end.minutes() + MINUTES_PER_DAY)
                    };
                    if end + recovery <= days[0].start {
                        continue;
                    }
                    blocks.push(BlockIx {
                        interval: Interval::new(start, end),
                        recovery_end: end + recovery,
                        label: b.label.clone().unwrap_or_else(|| "block".into()),
                    });
                }
            }
            for b in &q.dated_blocks {
                let iv = Interval::new(abs_local(tz, b.start), abs_local(tz, b.end));
                blocks.push(BlockIx {
                    interval: iv,
                    recovery_end: iv.end + recovery,
                    label: b.label.clone().unwrap_or_else(|| "block".into()),
                });
            }
            blocks.sort_by_key(|b| (b.interval, b.recovery_end));
            PatientIx {
                available,
                blocks,
                max_per_day: q.max_per_day,
                max_trips: q.max_trips,
                prefers: q.prefers,
                preferred_day: days
                    .iter()
                    .map(|d| q.preferred_days.is_empty() || q.preferred_days.contains(&d.weekday))
                    .collect(),
            }
        })
        .collect();

    let day_index = |date: NaiveDate| (date - input.week.start).num_days();
    let requests: Vec<RequestIx> = input
        .requests
        .iter()
        .map(|r| {
            let patient = patient_ix[r.patient.as_str()];
            let eligible: Vec<usize> = if r.providers.is_empty() {
                let s = r.specialty.as_deref().unwrap_or_default();
                input
                    .providers
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.specialty == s)
                    .map(|(k, _)| k)
                    .collect()
            } else {
                let mut e: Vec<usize> = r
                    .providers
                    .iter()
                    .map(|p| provider_ix[p.as_str()])
                    .collect();
                e.dedup();
                e
            };
            let own = r
                .preferred_provider
                .as_ref()
                .map(|p| provider_ix[p.as_str()]);
            let patients_choice = input.patients[patient]
                .preferred_provider
                .as_ref()
                .map(|p| provider_ix[p.as_str()])
                .filter(|p| eligible.contains(p));
            let day_lo = r.earliest.map_or(0, |e| day_index(e).max(0) as usize);
            let day_hi = r.latest.map_or(ndays - 1, |l| {
                (day_index(l).min(ndays as i64 - 1)).max(0) as usize
            });
            let existing = r.existing.as_ref().map(|e| ExistingIx {
                provider: provider_ix[e.provider.as_str()],
                start: abs_booking(e.start),
                modality: e.modality.unwrap_or(r.modality),
                resources: e
                    .resources
                    .iter()
                    .map(|u| resource_ix[u.as_str()])
                    .collect(),
                pinned: e.pinned,
            });
            RequestIx {
                patient,
                eligible,
                duration: far(r.duration_min),
                modality: r.modality,
                priority: r.priority,
                day_lo,
                day_hi,
                preferred_provider: own.or(patients_choice),
                resource_kinds: r.resources.clone(),
                language: input.patients[patient].language.clone(),
                existing,
            }
        })
        .collect();

    let mut precedences = Vec::new();
    let mut same_day = Vec::new();
    for (k, link) in input.links.iter().enumerate() {
        match link {
            Link::Precedence {
                before,
                after,
                min_gap_min,
                max_gap_min,
            } => precedences.push(Precedence {
                before: request_ix[before.as_str()],
                after: request_ix[after.as_str()],
                min_gap: far(*min_gap_min),
                max_gap: max_gap_min.map(far),
                link: k,
            }),
            Link::BackToBack {
                first,
                second,
                max_wait_min,
            } => {
                let (b, a) = (request_ix[first.as_str()], request_ix[second.as_str()]);
                precedences.push(Precedence {
                    before: b,
                    after: a,
                    min_gap: 0,
                    max_gap: Some(far(*max_wait_min)),
                    link: k,
                });
                same_day.push(vec![b, a]);
            }
            Link::SameDay { requests } => {
                let mut g: Vec<usize> = requests.iter().map(|r| request_ix[r.as_str()]).collect();
                g.sort_unstable();
                g.dedup();
                if g.len() >= 2 {
                    same_day.push(g);
                }
            }
        }
    }

    let same_day = merge_overlapping(same_day, requests.len());
    let required = crate::problem::required_requests(&requests, &precedences, &same_day);
    let link_order = crate::problem::link_order(&requests, &precedences);
    Problem {
        input: input.clone(),
        grid: input.week.grid_min as i32,
        tz,
        days,
        sites: ctx.site_tz.iter().map(|&tz| SiteIx { tz }).collect(),
        travel,
        providers,
        resources,
        patients,
        requests,
        precedences,
        same_day,
        required,
        link_order,
        weights: input.weights.clone(),
    }
}

/// Same-day groups that share a request, merged into one: all-or-none and same day carry
/// over a shared member, and the solver books each group whole on its own, so two groups
/// left apart could each be kept whole and still split what links them (a back-to-back
/// pair across two patients' bundles).
fn merge_overlapping(groups: Vec<Vec<usize>>, requests: usize) -> Vec<Vec<usize>> {
    let mut joined = UnionFind::<usize>::new(requests);
    for group in &groups {
        for pair in group.windows(2) {
            joined.union(pair[0], pair[1]);
        }
    }
    // Each merged group where its first part was, so groups that share nothing keep their order.
    let mut at: BTreeMap<usize, usize> = BTreeMap::new();
    let mut merged: Vec<Vec<usize>> = Vec::new();
    for group in groups {
        let Some(&first) = group.first() else {
            continue;
        };
        let i = *at.entry(joined.find(first)).or_insert_with(|| {
            merged.push(Vec::new());
            merged.len() - 1
        });
        merged[i].extend(group);
    }
    for group in &mut merged {
        group.sort_unstable();
        group.dedup();
    }
    merged
}

/// `windows` minus every cut; pieces stay separate, empty ones are dropped.
fn subtract(windows: Vec<Interval>, cuts: &[Interval]) -> Vec<Interval> {
    let mut pieces: Vec<Interval> = windows.into_iter().filter(|w| w.end > w.start).collect();
    for c in cuts {
        let mut next = Vec::with_capacity(pieces.len() + 1);
        for p in pieces {
            if !p.overlaps(c) {
                next.push(p);
                continue;
            }
            if p.start < c.start {
                next.push(Interval::new(p.start, c.start));
            }
            if c.end < p.end {
                next.push(Interval::new(c.end, p.end));
            }
        }
        pieces = next;
    }
    pieces.sort();
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "week": {"start": "2026-10-19", "days": 7, "grid_min": 15, "timezone": "Europe/Paris"},
            "sites": [{"id": "main"}, {"id": "far", "timezone": "Europe/London"}],
            "travel": [{"from": "main", "to": "far", "minutes": 40}],
            "providers": [
                {"id": "dr-a", "specialty": "cardiology", "site": "main",
                 "hours": {"mon": [["09:00", "12:00"]], "sun": [["09:00", "12:00"]]},
                 "bookings": [{"start": "2026-10-19T10:00", "end": "2026-10-19T10:30"}]},
                {"id": "dr-b", "specialty": "lab", "site": "far", "hours": {"mon": [["09:00", "12:00"]]}}
            ],
            "patients": [{"id": "p1", "blocks": [{"days": ["mon"], "start": "22:00", "end": "06:00", "label": "night shift"}],
                          "recovery_min": 60,
                          "availability_overrides": [{"date": "2026-10-20", "windows": []}]}],
            "requests": [
                {"id": "r1", "patient": "p1", "specialty": "lab", "duration_min": 15},
                {"id": "r2", "patient": "p1", "specialty": "cardiology", "duration_min": 30}
            ],
            "links": [{"kind": "back_to_back", "first": "r1", "second": "r2", "max_wait_min": 60}]
        })
    }

    fn run(v: serde_json::Value) -> Result<Problem, ValidationReport> {
        validate(parse_input(&v.to_string())?)
    }

    #[test]
    fn a_week_over_the_autumn_change_keeps_elapsed_minutes() {
        let p = run(base()).expect("valid");
        // Sunday 2026-10-25 gains an hour in Paris.
        assert_eq!(p.days[6].end - p.days[6].start, 1500);
        assert_eq!(p.days[5].end - p.days[5].start, 1440);
        // At 03:00 summer time, 180 minutes after midnight, the clocks go back to 02:00.
        assert_eq!(p.days[6].clock_change, p.days[6].start + 180);
        assert_eq!(p.days[5].clock_change, p.days[5].end);
        assert_eq!(p.minute_of_day(6, p.days[6].start + 179), 179);
        assert_eq!(p.minute_of_day(6, p.days[6].start + 180), 120);
        // Sunday 09:00 in Paris is 6*1440 + 9*60 + 60 elapsed minutes after Monday midnight.
        assert_eq!(
            p.providers[0].free[6],
            vec![Interval::new(6 * 1440 + 600, 6 * 1440 + 780)]
        );
        // The booking splits Monday's window; London is an hour behind Paris.
        assert_eq!(
            p.providers[0].free[0],
            vec![Interval::new(540, 600), Interval::new(630, 720)]
        );
        assert_eq!(p.providers[1].free[0], vec![Interval::new(600, 780)]);
    }

    #[test]
    fn night_shifts_run_past_midnight_and_overrides_replace_the_pattern() {
        let p = run(base()).expect("valid");
        let monday_shift = p.patients[0]
            .blocks
            .iter()
            .find(|b| b.interval.start == 22 * 60)
            .expect("Monday shift");
        assert_eq!(monday_shift.interval.end, 1440 + 360);
        assert_eq!(monday_shift.recovery_end, 1440 + 420);
        assert!(p.patients[0].available[1].is_empty());
        assert_eq!(p.patients[0].available[0], vec![Interval::new(0, 1440)]);
    }

    #[test]
    fn back_to_back_becomes_a_precedence_and_a_bundle() {
        let p = run(base()).expect("valid");
        assert_eq!(
            p.precedences,
            vec![Precedence {
                before: 0,
                after: 1,
                min_gap: 0,
                max_gap: Some(60),
                link: 0,
            }]
        );
        assert_eq!(p.same_day, vec![vec![0, 1]]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut v = base();
        v["requests"][0]["patient"] = "P1".into();
        v["providers"][1]["hours"]["mon"][0] = serde_json::json!(["12:00", "09:00"]);
        v["links"] = serde_json::json!([
            {"kind": "precedence", "before": "r1", "after": "r2"},
            {"kind": "precedence", "before": "r2", "after": "r1"}
        ]);
        let err = run(v).unwrap_err();
        let got: Vec<(&str, &str)> = err
            .issues
            .iter()
            .map(|i| (i.code.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("E015", "providers[1].hours.mon[0]"),
                ("E012", "requests[0].patient"),
                ("E026", "links")
            ]
        );
        assert!(err.issues[1].hint.contains("did you mean 'p1'"));
        assert!(err.issues[2].message.contains("r1 -> r2 -> r1"));
    }

    #[test]
    fn parse_errors_name_their_path() {
        let mut v = base();
        v["requests"][1]["duration"] = 30.into();
        let err = parse_input(&v.to_string()).unwrap_err();
        assert_eq!(
            (err.issues[0].code.as_str(), err.issues[0].path.as_str()),
            ("E003", "requests[1].duration")
        );
        let mut v = base();
        v["requests"][1]["duration_min"] = "thirty".into();
        let err = parse_input(&v.to_string()).unwrap_err();
        assert_eq!(
            (err.issues[0].code.as_str(), err.issues[0].path.as_str()),
            ("E002", "requests[1].duration_min")
        );
        let err = parse_input("{\"version\": 1,").unwrap_err();
        assert_eq!(err.issues[0].code, "E001");
    }

    fn codes(err: &ValidationReport) -> Vec<(&str, &str)> {
        err.issues
            .iter()
            .map(|i| (i.code.as_str(), i.path.as_str()))
            .collect()
    }

    /// Offsets with seconds (local mean time) would put every time written off the grid.
    #[test]
    fn zones_whose_offset_is_not_whole_minutes_are_refused() {
        let mut v = base();
        v["week"]["timezone"] = "Africa/Monrovia".into();
        v["week"]["start"] = "1970-01-05".into();
        v["providers"][0]["bookings"][0] =
            serde_json::json!({"start": "1970-01-05T10:00", "end": "1970-01-05T10:30"});
        v["patients"][0]["availability_overrides"][0]["date"] = "1970-01-06".into();
        let err = run(v.clone()).unwrap_err();
        assert_eq!(codes(&err), vec![("E005", "week.timezone")]);
        assert!(
            err.issues[0].message.contains("-00:44:30"),
            "{}",
            err.issues[0].message
        );
        // A site's own zone, with the week's whole-minute one.
        v["week"]["timezone"] = "UTC".into();
        v["sites"][1]["timezone"] = "Africa/Monrovia".into();
        let err = run(v.clone()).unwrap_err();
        assert_eq!(codes(&err), vec![("E005", "sites[1].timezone")]);
        // From 1972 its offset is whole minutes.
        v["sites"][1]["timezone"] = "Europe/London".into();
        assert!(run(v).is_ok());
    }

    /// A booking at a local time that the clocks skip is refused, not moved to another hour.
    #[test]
    fn bookings_at_skipped_local_times_are_refused() {
        let mut v = base();
        v["week"]["start"] = "2026-03-23".into();
        v["providers"][0]["bookings"][0] =
            serde_json::json!({"start": "2026-03-23T10:00", "end": "2026-03-23T10:30"});
        v["patients"][0]["availability_overrides"][0]["date"] = "2026-03-24".into();
        // Paris skips 02:00-03:00 on Sunday 2026-03-29.
        v["requests"][1]["existing"] = serde_json::json!(
            {"provider": "dr-a", "start": "2026-03-29T02:30", "modality": "in_person", "pinned": false});
        let err = run(v.clone()).unwrap_err();
        assert_eq!(codes(&err), vec![("E022", "requests[1].existing.start")]);
        assert!(err.issues[0]
            .message
            .contains("does not exist in Europe/Paris"));
        // With an offset, whichever: the message names it and the zone's on either side.
        v["requests"][1]["existing"]["start"] = "2026-03-29T02:30+01:00".into();
        let err = run(v.clone()).unwrap_err();
        assert_eq!(codes(&err), vec![("E022", "requests[1].existing.start")]);
        let message = &err.issues[0].message;
        assert!(
            message.contains("does not exist in Europe/Paris")
                && message.contains("'r2'")
                && message.contains("+01:00 to +02:00"),
            "{message}"
        );
        v["requests"][1]["existing"]["start"] = "2026-03-29T09:00".into();
        if let Err(e) = run(v.clone()) {
            panic!("{e}");
        }
        v["requests"][1]["existing"]["start"] = "2026-03-29T09:00+02:00".into();
        if let Err(e) = run(v) {
            panic!("{e}");
        }
    }

    /// Paris repeats 02:00-03:00 on Sunday 2026-10-25 (day 6 of the base week): without an
    /// offset a booking at 02:30 is the first one, and its offset picks either.
    #[test]
    fn an_offset_picks_the_occurrence_in_the_repeated_hour() {
        let start_of = |start: &str| {
            let mut v = base();
            v["requests"][1]["existing"] = serde_json::json!(
                {"provider": "dr-a", "start": start, "modality": "in_person", "pinned": false});
            run(v)
                .map(|p| p.requests[1].existing.as_ref().expect("a booking").start)
                .map_err(|e| e.issues)
        };
        let midnight = 6 * 1440;
        assert_eq!(start_of("2026-10-25T02:30"), Ok(midnight + 150));
        assert_eq!(start_of("2026-10-25T02:30+02:00"), Ok(midnight + 150));
        assert_eq!(start_of("2026-10-25T02:30:00+01:00"), Ok(midnight + 210));
        // Outside the repeated hour, the offset changes nothing.
        assert_eq!(start_of("2026-10-25T09:00"), Ok(midnight + 600));
        assert_eq!(start_of("2026-10-25T09:00+01:00"), Ok(midnight + 600));
        let issues = start_of("2026-10-25T02:30+03:00").unwrap_err();
        assert_eq!(
            (
                issues.len(),
                issues[0].code.as_str(),
                issues[0].path.as_str()
            ),
            (1, "E022", "requests[1].existing.start")
        );
        let (message, hint) = (&issues[0].message, &issues[0].hint);
        assert!(
            message.contains("'r2'")
                && message.contains("+03:00")
                && message.contains("+02:00")
                && message.contains("+01:00"),
            "{message}"
        );
        assert!(
            hint.contains("+02:00 for the first 02:30 or +01:00 for the second")
                && hint.contains("drop the offset"),
            "{hint}"
        );
    }

    /// An offset that is not the zone's at that local time is refused, with the zone's.
    #[test]
    fn an_offset_that_is_not_the_zones_is_refused() {
        for (start, given) in [
            ("2026-10-19T10:30+01:00", "+01:00"),
            ("2026-10-19T10:30Z", "+00:00"),
            ("2026-10-19T10:30:00-05:00", "-05:00"),
        ] {
            let mut v = base();
            v["requests"][1]["existing"] = serde_json::json!(
                {"provider": "dr-a", "start": start, "modality": "in_person", "pinned": false});
            let err = run(v).unwrap_err();
            assert_eq!(
                codes(&err),
                vec![("E022", "requests[1].existing.start")],
                "{start}"
            );
            let (message, hint) = (&err.issues[0].message, &err.issues[0].hint);
            assert!(
                message.contains("'r2'")
                    && message.contains(&format!("the UTC offset {given}"))
                    && message.contains("Europe/Paris is at +02:00"),
                "{message}"
            );
            assert!(
                hint.contains("give the zone's offset at that time, +02:00, or drop the offset"),
                "{hint}"
            );
        }
        // A start copied from a London site's schedule: the hint gives it in Paris time.
        let mut v = base();
        v["requests"][1]["existing"] = serde_json::json!(
            {"provider": "dr-a", "start": "2026-10-19T09:30:00+01:00", "modality": "in_person", "pinned": false});
        let err = run(v.clone()).unwrap_err();
        assert!(
            err.issues[0]
                .hint
                .contains("the instant written is 2026-10-19T10:30+02:00 there"),
            "{}",
            err.issues[0].hint
        );
        v["requests"][1]["existing"]["start"] = "2026-10-19T10:30:00+02:00".into();
        if let Err(e) = run(v) {
            panic!("{e}");
        }
    }

    /// A start whose offset is neither the week zone's nor the site zone's is refused for its
    /// offset, with the instant it names in the week's zone, even when the wall clock written
    /// lies outside the week or off the grid while that instant does not (it was once
    /// reported as "outside the week" or "off the grid", pointing at the wrong fix).
    #[test]
    fn a_foreign_offset_is_refused_for_it_before_the_week_and_grid_checks() {
        for (start, grid, given, named) in [
            // 04:30 UTC on Monday, 06:30 in Paris: a New York wall clock of the Sunday before.
            (
                "2026-10-18T23:30:00-05:00",
                15,
                "-05:00",
                "2026-10-19T06:30+02:00",
            ),
            // 08:00 UTC, 10:00 in Paris, on the hour: a Kolkata wall clock at half past.
            (
                "2026-10-19T13:30:00+05:30",
                60,
                "+05:30",
                "2026-10-19T10:00+02:00",
            ),
        ] {
            let mut v = base();
            v["week"]["grid_min"] = grid.into();
            v["requests"][0]["duration_min"] = 60.into();
            v["requests"][1]["duration_min"] = 60.into();
            v["requests"][1]["existing"] = serde_json::json!(
                {"provider": "dr-a", "start": start, "modality": "in_person", "pinned": false});
            let err = run(v).unwrap_err();
            let issues: Vec<_> = err
                .issues
                .iter()
                .filter(|i| i.path == "requests[1].existing.start")
                .collect();
            assert_eq!(issues.len(), 1, "{start}: {err}");
            let (message, hint) = (&issues[0].message, &issues[0].hint);
            assert!(
                issues[0].code == "E022"
                    && message.contains("'r2'")
                    && message.contains(&format!("the UTC offset {given}")),
                "{start}: {message}"
            );
            assert!(
                hint.contains(&format!("the instant written is {named} there")),
                "{start}: {hint}"
            );
        }
        // Neither the date written nor the instant's in the week: that is what is wrong.
        let mut v = base();
        v["requests"][1]["existing"] = serde_json::json!(
            {"provider": "dr-a", "start": "0001-01-01T00:00+23:59", "modality": "in_person", "pinned": false});
        let err = run(v).unwrap_err();
        assert_eq!(codes(&err), vec![("E022", "requests[1].existing.start")]);
        assert!(
            err.issues[0].message.contains("is outside the week"),
            "{err}"
        );
    }

    /// A block lasting no time is refused in either form; one past midnight is kept.
    #[test]
    fn recurring_blocks_must_last() {
        for (start, end, refused) in [
            ("10:00", "10:00", true),
            ("24:00", "00:00", true),
            ("22:00", "06:00", false),
            ("00:00", "24:00", false),
        ] {
            let mut v = base();
            v["patients"][0]["blocks"][0]["start"] = start.into();
            v["patients"][0]["blocks"][0]["end"] = end.into();
            match run(v) {
                Err(e) if refused => {
                    assert_eq!(codes(&e), vec![("E029", "patients[0].blocks[0]")])
                }
                Ok(_) if !refused => {}
                other => panic!("{start}-{end}: {:?}", other.err()),
            }
        }
    }

    /// A request that names the interpreter kind may be pinned holding one, whatever the
    /// patient's language; one that does not name it may not, where nobody needs one.
    #[test]
    fn a_pin_holds_an_interpreter_its_request_names() {
        let mut v = base();
        v["links"] = serde_json::json!([]);
        v["resources"] =
            serde_json::json!([{"id": "asl-1", "kind": "interpreter", "language": "asl"}]);
        v["requests"][1]["resources"] = serde_json::json!(["interpreter"]);
        v["requests"][1]["existing"] = serde_json::json!({"provider": "dr-a",
            "start": "2026-10-19T10:30", "modality": "in_person", "resources": ["asl-1"], "pinned": true});
        if let Err(e) = run(v.clone()) {
            panic!("{e}");
        }
        v["requests"][1]["resources"] = serde_json::json!([]);
        let err = run(v).unwrap_err();
        assert_eq!(
            codes(&err),
            vec![("E022", "requests[1].existing.resources[0]")]
        );
    }
}
