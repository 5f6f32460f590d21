//! The naming rule for events and properties, and the syntax of funnel windows.
//!
//! This file is shared, byte for byte, by `telemetry-core` (runtime checks, catalog
//! validation) and `telemetry-macros` (compile-time checks); a test in the workspace
//! keeps the two copies identical. It depends on nothing but `std`.

/// Checks an event name against the naming rule: two or more dot-separated segments,
/// each a lowercase letter followed by lowercase letters, digits or `_`
/// (`object.action`, e.g. `cart.item_added`, `checkout.payment.failed`).
///
/// The derive applies the same rule at compile time. Returns what is wrong otherwise.
pub fn check_event_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "the event name is empty; write it as `object.action`, e.g. `cart.item_added`".into(),
        );
    }
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() < 2 {
        return Err(format!(
            "event name `{name}` has one segment; write it as `object.action`, e.g. `{}.viewed`",
            suggest_segment(name)
        ));
    }
    for segment in &segments {
        let mut chars = segment.chars();
        let ok = matches!(chars.next(), Some('a'..='z'))
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
        if !ok {
            return Err(format!(
                "event name `{name}` has the segment `{segment}`; each segment starts with a lowercase letter and holds only `a-z`, `0-9` and `_` (try `{}`)",
                suggest_name(name)
            ));
        }
    }
    Ok(())
}

/// A name close to `name` that follows the rule, for error messages.
pub fn suggest_name(name: &str) -> String {
    let segments: Vec<String> = name
        .split(['.', '/', ':', ' '])
        .filter(|s| !s.is_empty())
        .map(suggest_segment)
        .collect();
    if segments.len() < 2 {
        format!("{}.happened", segments.first().map_or("object", |s| s))
    } else {
        segments.join(".")
    }
}

pub fn suggest_segment(segment: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in segment.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        Some(_) => format!("e{out}"),
        None => "object".into(),
    }
}

/// Checks a property name: a lowercase letter or `_` followed by lowercase letters,
/// digits or `_` (`snake_case`, as analytics tools and SQL columns expect).
pub fn check_property_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "property name `{name}` is not snake_case; use lowercase letters, digits and `_` (try `{}`)",
            suggest_segment(name)
        ))
    }
}

/// Seconds in a conversion window written as a positive whole number and a unit `s`,
/// `m`, `h`, `d` or `w` (`30m`, `1d`); says how to write it otherwise.
pub fn parse_window_seconds(window: &str) -> Result<u64, String> {
    let unit_at = window
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(window.len());
    let (number, unit) = window.split_at(unit_at);
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds > 0 => n
            .checked_mul(seconds)
            .ok_or_else(|| format!("window `{window}` is too long")),
        _ => Err(format!(
            "window `{window}` is not a duration; write a positive whole number and a unit `s`, `m`, `h`, `d` or `w`, e.g. `30m` or `1d`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_rule() {
        assert!(check_event_name("cart.item_added").is_ok());
        assert!(check_event_name("checkout.payment.failed").is_ok());
        assert!(check_event_name("a1.b2").is_ok());
        for bad in [
            "cart",
            "Cart.Added",
            "cart..added",
            ".cart",
            "cart.",
            "cart.item-added",
            "1cart.added",
            "",
        ] {
            assert!(check_event_name(bad).is_err(), "{bad} should be rejected");
        }
        let msg = check_event_name("Cart.ItemAdded").unwrap_err();
        assert!(msg.contains("try `cart.item_added`"), "{msg}");
        let msg = check_event_name("checkout").unwrap_err();
        assert!(msg.contains("`checkout.viewed`"), "{msg}");
    }

    #[test]
    fn property_names() {
        assert!(check_property_name("price_cents").is_ok());
        assert!(check_property_name("_internal").is_ok());
        let msg = check_property_name("priceCents").unwrap_err();
        assert!(msg.contains("try `price_cents`"), "{msg}");
        assert!(check_property_name("").is_err());
    }
}
