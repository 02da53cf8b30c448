//! The YAML formats as written, before any meaning is checked. Values that a later check
//! may need to point at are `Spanned`. No `flatten` or `untagged` here: they lose spans.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
pub struct Workflow {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    pub description: Option<String>,
    pub description_en: Option<String>,
    pub calendar: Option<S<String>>,
    pub notify_at: Option<S<String>>,
    pub fiscal_year_field: Option<S<String>>,
    #[serde(default)]
    pub open_by: Vec<S<String>>,
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub phases: Vec<Named>,
    pub roles: S<Vec<Role>>,
    #[serde(default)]
    pub documents: Vec<Document>,
    #[serde(default)]
    pub fields: Vec<Field>,
    pub stages: S<Vec<Stage>>,
    pub transitions: Vec<Transition>,
    /// `id` (default) or `en`: the language of notifications.
    pub language: Option<S<String>>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub records: Vec<Record>,
}

/// A kind of repeating record on a case (payments, coalition members).
#[derive(Debug, Deserialize)]
pub struct Record {
    pub id: S<String>,
    pub label: Option<String>,
    pub label_en: Option<String>,
    #[serde(default)]
    pub add_by: Vec<S<String>>,
    pub fields: Vec<Field>,
}

/// An invariant of the case's data, checked whenever a field it reads is set.
#[derive(Debug, Deserialize)]
pub struct Rule {
    pub id: S<String>,
    pub label: Option<String>,
    pub label_en: Option<String>,
    pub condition: S<Condition>,
}

/// A notification text that replaces the built-in one for its kind.
#[derive(Debug, Deserialize)]
pub struct Message {
    pub kind: S<String>,
    pub subject: S<String>,
    pub body: S<String>,
    pub subject_en: Option<S<String>>,
    pub body_en: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Party {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    /// Roles that may add organisations to the party or withdraw them on a running case.
    #[serde(default)]
    pub members_by: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Role {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    pub party: Option<S<String>>,
    /// Only staff of the party's lead organisation hold the role.
    #[serde(default)]
    pub lead_only: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
pub struct Document {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    #[serde(default)]
    pub attach_by: Vec<S<String>>,
    /// Kept for the record only; no step requires it (silences W003).
    #[serde(default)]
    pub informative: bool,
}

#[derive(Debug, Deserialize)]
pub struct Field {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    #[serde(rename = "type")]
    pub field_type: S<String>,
    pub values: Option<S<Vec<String>>>,
    /// What people read for each value of an enum field (`apbd_perubahan: APBD Perubahan`).
    #[serde(default)]
    pub value_labels: Option<S<BTreeMap<String, String>>>,
    #[serde(default)]
    pub value_labels_en: Option<S<BTreeMap<String, String>>>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub set_by: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Stage {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    pub phase: Option<S<String>>,
    pub initial: Option<S<bool>>,
    pub terminal: Option<S<bool>>,
    pub legal_basis: Option<String>,
    pub deadline: Option<S<Deadline>>,
    #[serde(default)]
    pub recurring: Vec<S<Recurring>>,
}

impl Stage {
    pub fn is_initial(&self) -> bool {
        self.initial.as_ref().is_some_and(|i| i.value)
    }

    pub fn is_terminal(&self) -> bool {
        self.terminal.as_ref().is_some_and(|t| t.value)
    }

    /// Where `key: true` is written, or the stage id when it is not.
    pub fn flag_location(&self, flag: &Option<S<bool>>) -> serde_saphyr::Location {
        flag.as_ref().map_or(self.id.referenced, |f| f.referenced)
    }
}

#[derive(Debug, Deserialize)]
pub struct Deadline {
    /// A duration after the anchor (stage entry, or `from_field`).
    pub after: Option<S<String>>,
    pub from_field: Option<S<String>>,
    /// A month and day, `MM-DD`, in the year given by `year`.
    pub on: Option<S<String>>,
    /// `fiscal_year`, `fiscal_year - 1`, `fiscal_year + 1`.
    pub year: Option<S<String>>,
    #[serde(default)]
    pub responsible: Vec<S<String>>,
    #[serde(default)]
    pub reminders: Vec<S<Reminder>>,
    #[serde(default)]
    pub escalate: Vec<S<Escalation>>,
    pub on_expiry: Option<S<String>>,
    /// The later fixed day that counts instead when the stage begins after `on` has passed.
    pub late_entry: Option<S<LateEntry>>,
    /// Capped at the last working day of the fiscal year.
    pub within_fiscal_year: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateEntry {
    pub on: S<String>,
    pub year: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Reminder {
    pub before: Option<S<String>>,
    pub at_due: Option<S<bool>>,
    pub every: Option<S<String>>,
    #[serde(default)]
    pub to: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Escalation {
    pub after: S<String>,
    pub to: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
pub struct Recurring {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    /// `week`, `month` or `quarter`.
    pub every: S<String>,
    /// A duration after the period ends.
    pub due: S<String>,
    pub document: S<String>,
    #[serde(default)]
    pub responsible: Vec<S<String>>,
    #[serde(default)]
    pub reminders: Vec<S<Reminder>>,
    #[serde(default)]
    pub escalate: Vec<S<Escalation>>,
}

#[derive(Debug, Deserialize)]
pub struct Transition {
    pub id: S<String>,
    /// Required; a missing one is reported by the checks (E006) with the object's id, so
    /// that it does not stop the other checks.
    pub label: Option<String>,
    pub label_en: Option<String>,
    pub from: S<Vec<S<String>>>,
    pub to: S<String>,
    pub roles: S<Vec<S<String>>>,
    #[serde(default)]
    pub requires: Guard,
    #[serde(default)]
    pub notify: Vec<S<String>>,
    /// A joint sign-off: roles that must each approve before it takes effect.
    #[serde(default)]
    pub requires_all: Option<S<Vec<S<String>>>>,
    /// A party every organisation of which must approve too (each coalition member signs).
    #[serde(default)]
    pub requires_each_member_of: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Guard {
    #[serde(default)]
    pub documents: Vec<S<String>>,
    #[serde(default)]
    pub fields: Vec<S<String>>,
    #[serde(default)]
    pub comment: bool,
    #[serde(default)]
    pub conditions: Vec<S<Condition>>,
}

#[derive(Debug, Deserialize)]
pub struct Condition {
    pub field: S<String>,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `is_set`, `is_unset`.
    pub op: S<String>,
    pub value: Option<S<String>>,
    /// Another value of the case: a field id, `start_of_year(FIELD)` or `end_of_year(FIELD)`.
    pub value_of: Option<S<String>>,
}

/// A calendar file: the days off of one year.
#[derive(Debug, Deserialize)]
pub struct CalendarYear {
    pub calendar: S<String>,
    pub year: S<i16>,
    pub time_zone: S<String>,
    pub weekend: S<Vec<Weekday>>,
    pub holidays: Vec<S<HolidayEntry>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Debug, Deserialize)]
pub struct HolidayEntry {
    pub date: S<String>,
    pub kind: HolidayKind,
    pub name: String,
    #[serde(default = "yes")]
    pub confirmed: bool,
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    National,
    CollectiveLeave,
}

/// Every key the formats know, to suggest one for a misspelt key (`lable` → `label`). Read
/// from the types themselves: serde names a struct's fields when it asks for the struct.
pub fn known_keys() -> &'static [&'static str] {
    use std::sync::LazyLock;
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut keys = Vec::new();
        keys.extend(fields_of::<Workflow>());
        keys.extend(fields_of::<Message>());
        keys.extend(fields_of::<Named>());
        keys.extend(fields_of::<Party>());
        keys.extend(fields_of::<Record>());
        keys.extend(fields_of::<Rule>());
        keys.extend(fields_of::<Role>());
        keys.extend(fields_of::<Document>());
        keys.extend(fields_of::<Field>());
        keys.extend(fields_of::<Stage>());
        keys.extend(fields_of::<Deadline>());
        keys.extend(fields_of::<Reminder>());
        keys.extend(fields_of::<Escalation>());
        keys.extend(fields_of::<Recurring>());
        keys.extend(fields_of::<Transition>());
        keys.extend(fields_of::<Guard>());
        keys.extend(fields_of::<Condition>());
        keys.extend(fields_of::<CalendarYear>());
        keys.extend(fields_of::<HolidayEntry>());
        keys.sort_unstable();
        keys.dedup();
        keys
    });
    &KEYS
}

/// The field names of struct `T`, as its `Deserialize` implementation gives them to serde.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};

    #[derive(Debug)]
    struct Found(&'static [&'static str]);
    impl std::fmt::Display for Found {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields found")
        }
    }
    impl std::error::Error for Found {}
    impl de::Error for Found {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Found(&[])
        }
    }

    /// Answers the first question serde asks: the struct and its fields.
    struct Asker;
    impl<'de> de::Deserializer<'de> for Asker {
        type Error = Found;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
            Err(Found(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Found> {
            Err(Found(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    match T::deserialize(Asker) {
        Err(Found(fields)) => fields,
        Ok(_) => &[],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_known_keys_come_from_the_types() {
        let keys = super::known_keys();
        for key in [
            "label",
            "roles",
            "reminders",
            "requires",
            "value_labels",
            "holidays",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
    }
}
