//! PostgreSQL helpers that need no database client: the default table name, table
//! name quoting, password redaction and error descriptions. Shared by the PostgreSQL
//! sink (`export::Postgres`, feature `postgres`) and by the report engine that reads
//! its table back in SQL.

use std::error::Error;

/// The table the PostgreSQL sink writes to, and a report reads, unless told otherwise.
pub const DEFAULT_TABLE: &str = "telemetry_events";

/// The table name quoted for SQL: `"name"` or `"schema"."name"`.
///
/// Each part must start with a letter or `_`, hold only ASCII letters, digits and `_`,
/// and be at most 63 characters long (PostgreSQL's limit); the error says which rule
/// the name breaks.
///
/// ```
/// use telemetry_core::pg::quote_table;
///
/// assert_eq!(quote_table("analytics.events").unwrap(), r#""analytics"."events""#);
/// assert!(quote_table("events; DROP TABLE x").is_err());
/// ```
pub fn quote_table(table: &str) -> Result<String, &'static str> {
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() > 2 {
        return Err("more than one `.`");
    }
    for part in &parts {
        let mut chars = part.chars();
        match chars.next() {
            None => return Err("an empty name"),
            Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
                return Err("a name must start with a letter or `_`");
            }
            _ => {}
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("a character other than a letter, digit or `_`");
        }
        if part.len() > 63 {
            return Err("longer than 63 characters");
        }
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

/// The error followed by those of its causes whose text it does not already hold
/// (`error connecting to server: Connection refused`).
pub fn describe(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `url` with its password replaced by `***`: in the user info of a URL
/// (`postgres://user:***@host`), in a `password=` query parameter, or in a
/// `password=...` pair of the key-value form (quoted or not).
///
/// ```
/// use telemetry_core::pg::redact;
///
/// assert_eq!(redact("postgres://app:hunter2@db/x"), "postgres://app:***@db/x");
/// assert_eq!(redact("host=db password=hunter2 user=app"), "host=db password=*** user=app");
/// ```
pub fn redact(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => {
                let (userinfo, host) = authority.split_at(at);
                match userinfo.find(':') {
                    Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                    None => authority.to_owned(),
                }
            }
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        return format!("{}{authority}{tail}", &url[..scheme_end + 3]);
    }
    // Key-value form: `host=h user=u password='it''s secret' dbname=d`.
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = find_password_key(rest) {
        let after_key = &rest[at..];
        let eq = after_key.find('=').expect("found with `=`");
        out.push_str(&rest[..at + eq + 1]);
        let value = after_key[eq + 1..].trim_start();
        let skipped = after_key.len() - eq - 1 - value.len();
        out.push_str(&after_key[eq + 1..eq + 1 + skipped]);
        let value_len = if let Some(quoted) = value.strip_prefix('\'') {
            // Up to the closing quote; `\'` escapes one.
            let mut end = quoted.len();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            (1 + end).min(value.len())
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        out.push_str("***");
        rest = &value[value_len..];
    }
    out.push_str(rest);
    out
}

/// Start of a `password` key followed by `=` at a word boundary.
fn find_password_key(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("password") {
        let at = from + i;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let after = lower[at + "password".len()..].trim_start();
        if before_ok && after.starts_with('=') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_every_form() {
        for (url, want) in [
            (
                "postgres://app:s3cr%40t@db.example:5432/analytics",
                "postgres://app:***@db.example:5432/analytics",
            ),
            (
                "postgresql://app@localhost/db?password=hunter2&sslmode=disable",
                "postgresql://app@localhost/db?password=***&sslmode=disable",
            ),
            ("postgres://localhost/db", "postgres://localhost/db"),
            (
                "host=127.0.0.1 user=app password=hunter2 dbname=x",
                "host=127.0.0.1 user=app password=*** dbname=x",
            ),
            (
                "host=h password = 'it\\'s secret' user=u",
                "host=h password = *** user=u",
            ),
        ] {
            assert_eq!(redact(url), want, "{url}");
        }
    }

    #[test]
    fn table_names_are_checked_and_quoted() {
        assert_eq!(quote_table("events").unwrap(), r#""events""#);
        assert_eq!(
            quote_table("analytics.app_events").unwrap(),
            r#""analytics"."app_events""#
        );
        let long = "e".repeat(64);
        for bad in [
            "",
            "a.b.c",
            "1events",
            "ev ents",
            "x;DROP TABLE y",
            "a.",
            &long,
        ] {
            assert!(quote_table(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn causes_are_appended_once() {
        let io = std::io::Error::other("Connection refused");
        assert_eq!(describe(&io), "Connection refused");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error connecting to server")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            describe(&Outer(io)),
            "error connecting to server: Connection refused"
        );
    }
}
