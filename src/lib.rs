//! mapc: a declarative mapping engine for event data.
//!
//! A mapping file, written in the mapc rules language (grammar in
//! `grammar/mapc.pest`), says how input events become output records. The
//! engine knows nothing of any particular destination: the rules live in
//! the mapping file. The flow runs one way:
//!
//! text → pest pairs → AST ([`syntax`]) → checked and compiled code
//! ([`compile`]) → code bound to settings (`bind`) → evaluation per event.
//!
//! ```
//! use mapc::{Mapping, Settings};
//!
//! let mapping = Mapping::from_source("greet.map", r#"
//!     apis out
//!     settings { greeting: string = "Hello" }
//!     on track {
//!         require exists(.userId) else "track needs a userId"
//!         emit out { text: "{settings.greeting}, {.userId}!", plan: .properties.plan }
//!     }
//! "#).expect("the mapping is valid");
//!
//! let settings = Settings::from_yaml_str("settings.yaml", "greeting: Hi").unwrap();
//! let program = mapping.bind(&settings).expect("the settings fit the mapping");
//!
//! // Events are parsed into a `Doc`, whose strings borrow from the text.
//! let line = r#"{"type": "track", "userId": "ada"}"#;
//! let event = mapc::Doc::parse(line).unwrap();
//! let records = program.map_event(&event).unwrap();
//! assert_eq!(records[0].api, "out");
//! // `plan` is left out: the event has no properties.plan.
//! assert_eq!(records[0].payload.to_json().unwrap(), serde_json::json!({"text": "Hi, ada!"}));
//!
//! // `map_value` takes a serde_json value and returns owned records.
//! let rejected = program.map_value(&serde_json::json!({"type": "track"})).unwrap_err();
//! assert_eq!(rejected.to_string(), "track needs a userId");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bind;
pub mod compile;
pub mod diagnostic;
pub mod doc;
mod eval;
mod load;
mod program;
pub mod run;
pub mod settings;
pub mod stdlib;
pub mod syntax;
pub mod value;

pub use diagnostic::{Diagnostic, Diagnostics, Severity, SourceMap};
pub use doc::Doc;
pub use eval::Record;
pub use program::{check, Limits, Mapping, Outcome, Program, Rejection};
pub use run::{run, RunOptions, Sinks, Stats};
pub use settings::{Settings, SettingsError};
pub use value::Val;
