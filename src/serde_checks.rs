//! Deserialisation that refuses what serde's defaults would take without a word: a map key
//! given twice (the last would win) and dates written in ways the messages of chrono's own
//! parser leave unexplained.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use chrono::NaiveDate;
use serde::de::{Error, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A map whose keys are each given once.
struct UniqueKeys<K, V>(BTreeMap<K, V>);

impl<'de, K, V> Deserialize<'de> for UniqueKeys<K, V>
where
    K: Deserialize<'de> + Ord + Serialize,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys<K, V>(PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for Keys<K, V>
        where
            K: Deserialize<'de> + Ord + Serialize,
            V: Deserialize<'de>,
        {
            type Value = UniqueKeys<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<K, V>()? {
                    if out.contains_key(&key) {
                        let name = serde_json::to_string(&key).unwrap_or_default();
                        return Err(A::Error::custom(format!(
                            "key {name} is given twice (only one of the two would count): merge them into one"
                        )));
                    }
                    out.insert(key, value);
                }
                Ok(UniqueKeys(out))
            }
        }
        d.deserialize_map(Keys(PhantomData))
    }
}

/// A map, refusing a key given twice.
pub(crate) fn unique_keys<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord + Serialize,
    V: Deserialize<'de>,
{
    Ok(UniqueKeys::deserialize(d)?.0)
}

/// An optional map (absent or `null`: `None`), refusing a key given twice.
pub(crate) fn unique_keys_opt<'de, D, K, V>(d: D) -> Result<Option<BTreeMap<K, V>>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord + Serialize,
    V: Deserialize<'de>,
{
    Ok(Option::<UniqueKeys<K, V>>::deserialize(d)?.map(|m| m.0))
}

/// Parses a calendar date `"YYYY-MM-DD"`, saying what was wrong with one that is not.
pub(crate) fn parse_date(s: &str) -> Result<NaiveDate, String> {
    // Month and day may go without their leading zero, as chrono's own parser allows.
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    let form = parts.len() == 3
        && digits(parts[0], 4..=4)
        && digits(parts[1], 1..=2)
        && digits(parts[2], 1..=2);
    if !form {
        return Err(format!("invalid date {s:?}: expected \"YYYY-MM-DD\""));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("invalid date {s:?}: no such day in the calendar"))
}

/// A date written `"YYYY-MM-DD"`.
pub(crate) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse_date(&s).map_err(D::Error::custom)
}

/// An optional date (absent or `null`: `None`) written `"YYYY-MM-DD"`.
pub(crate) fn date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_date(&s).map_err(D::Error::custom))
        .transpose()
}

/// `Deserialize` for a unit enum written as a string, read through a string rather than by
/// serde's enum derive: serde_json reads an enum from anything but a string or an object as
/// a syntax error ("expected value"), which would send the user looking for a typo in valid
/// JSON (`"modality": null`). Read this way, a number, `null`, `true` or an array is a wrong
/// type ("invalid type: null, expected one of `in_person`, …"), and a string that names no
/// value is an unknown variant, as before.
macro_rules! string_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const VARIANTS: &[&str] = &[$($text),+];
                // Every variant is listed: a new one left out does not compile.
                #[allow(dead_code)]
                fn listed(v: $name) -> &'static str {
                    match v {
                        $($name::$variant => $text,)+
                    }
                }
                struct Named;
                impl serde::de::Visitor<'_> for Named {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("one of ")?;
                        for (i, v) in VARIANTS.iter().enumerate() {
                            if i > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "`{v}`")?;
                        }
                        Ok(())
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        match s {
                            $($text => Ok($name::$variant),)+
                            other => Err(E::unknown_variant(other, VARIANTS)),
                        }
                    }
                }
                d.deserialize_str(Named)
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Hours {
        #[serde(deserialize_with = "unique_keys")]
        hours: BTreeMap<String, u32>,
        #[serde(default, deserialize_with = "unique_keys_opt")]
        extra: Option<BTreeMap<String, u32>>,
        #[serde(default, deserialize_with = "date_opt")]
        on: Option<NaiveDate>,
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let ok: Hours = serde_json::from_str(r#"{"hours": {"a": 1, "b": 2}}"#).unwrap();
        assert_eq!(ok.hours.len(), 2);
        assert_eq!(ok.extra, None);
        let twice = serde_json::from_str::<Hours>(r#"{"hours": {"a": 1, "a": 2}}"#);
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("key \"a\" is given twice"));
        let twice = serde_json::from_str::<Hours>(r#"{"hours": {}, "extra": {"b": 1, "b": 1}}"#);
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("key \"b\" is given twice"));
        let null: Hours = serde_json::from_str(r#"{"hours": {}, "extra": null}"#).unwrap();
        assert_eq!(null.extra, None);
    }

    #[test]
    fn dates_say_what_is_wrong() {
        assert_eq!(
            parse_date("2026-03-02"),
            NaiveDate::from_ymd_opt(2026, 3, 2).ok_or_else(String::new)
        );
        assert_eq!(parse_date("2026-3-2"), parse_date("2026-03-02"));
        assert!(parse_date("2026-02-30")
            .unwrap_err()
            .contains("no such day"));
        for bad in [
            "2026-3-",
            "",
            "2026-03-02T00:00",
            "２０２６-03-02",
            "02/03/2026",
        ] {
            assert!(
                parse_date(bad)
                    .unwrap_err()
                    .contains("expected \"YYYY-MM-DD\""),
                "{bad}"
            );
        }
        let on: Hours = serde_json::from_str(r#"{"hours": {}, "on": null}"#).unwrap();
        assert_eq!(on.on, None);
        let bad = serde_json::from_str::<Hours>(r#"{"hours": {}, "on": "2026-13-01"}"#);
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("invalid date \"2026-13-01\""));
    }
}
