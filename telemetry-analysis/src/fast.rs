//! A quick reader of record lines in the compact layout `telemetry-core` writes: no
//! whitespace between tokens, no escapes in strings. It accepts a line only when it
//! is sure the general parser ([`serde_json`] into [`view::Line`](crate::view)) would
//! accept it with the same values; anything else (an escape, a space, a missing or
//! repeated field, a value of an unexpected type) is left to the general parser,
//! which also words the errors.

use telemetry_core::Outcome;
use telemetry_core::record::RecordKind;

/// The fields of a record line that the metrics read, borrowed from the line.
pub(crate) struct Fields<'a> {
    pub(crate) kind: RecordKind,
    pub(crate) timestamp: &'a str,
    pub(crate) name: &'a str,
    pub(crate) user_id: Option<&'a str>,
    pub(crate) anonymous_id: Option<&'a str>,
    /// `app_name`, `app_version`, `os`, `arch`.
    pub(crate) context: [&'a str; 4],
    /// `function`, `duration_ms`, `outcome`, `error_kind`.
    pub(crate) call: Option<(&'a str, f64, Outcome, Option<&'a str>)>,
    pub(crate) sample_rate: Option<f64>,
    /// The raw JSON of the properties.
    pub(crate) properties: &'a str,
}

/// Nesting deeper than this is left to the general parser.
const MAX_DEPTH: u32 = 64;

/// Reads a line in the usual layout; `None`: left to the general parser.
pub(crate) fn fields(line: &str) -> Option<Fields<'_>> {
    let mut s = Scan {
        s: line,
        b: line.as_bytes(),
        i: 0,
    };
    let fields = s.record()?;
    (s.i == s.b.len()).then_some(fields)
}

struct Scan<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// The high bit of each byte of `word` that is a quote, a backslash or a control
/// character; bits above the lowest one set may be spurious (but the lowest is
/// exact).
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    zero(word ^ (ONES * u64::from(b'"')))
        | zero(word ^ (ONES * u64::from(b'\\')))
        | (word.wrapping_sub(ONES * 0x20) & !word & HIGH)
}

/// Marks a field as seen; `None` when it was already.
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? != c {
            return None;
        }
        self.i += 1;
        Some(())
    }

    /// `,` (`true`: another member follows) or the closing `}` (`false`).
    fn next_member(&mut self) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        // Eight bytes at a time while none is special.
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let special = special_bytes(word);
            if special != 0 {
                self.i += (special.trailing_zeros() / 8) as usize;
                break;
            }
            self.i += 8;
        }
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        // Both ends are next to an ASCII quote: character boundaries.
        let s = self.s.get(start..self.i)?;
        self.i += 1;
        Some(s)
    }

    /// A key and its colon.
    fn key(&mut self) -> Option<&'a str> {
        let key = self.string()?;
        self.eat(b':')?;
        Some(key)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number as JSON spells it: its text.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        self.s.get(start..self.i)
    }

    /// A small whole number (fits a `u32`).
    fn small_uint(&mut self) -> Option<u32> {
        let n = self.number()?;
        if n.len() > 9 || !n.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        n.parse().ok()
    }

    /// A number read as a `f64` exactly as the general parser reads it.
    fn float(&mut self) -> Option<f64> {
        serde_json::from_str(self.number()?).ok()
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if !self.b.get(self.i..)?.starts_with(word) {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    /// `null`: true (and skipped).
    fn null(&mut self) -> bool {
        self.literal(b"null").is_some()
    }

    /// Skips any value, checking its syntax.
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.i += 1;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.key()?;
                    self.skip(depth + 1)?;
                    if !self.next_member()? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    let c = self.peek()?;
                    self.i += 1;
                    match c {
                        b',' => {}
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn record(&mut self) -> Option<Fields<'a>> {
        self.eat(b'{')?;
        let mut seen = 0u32;
        let mut kind = None;
        let (mut timestamp, mut name, mut properties) = (None, None, None);
        let mut context = None;
        let mut call = None;
        let mut sample_rate = None;
        loop {
            match self.key()? {
                "format" => {
                    once(&mut seen, 1)?;
                    self.small_uint()?;
                }
                "type" => {
                    once(&mut seen, 2)?;
                    kind = Some(match self.string()? {
                        "event" => RecordKind::Event,
                        "stats" => RecordKind::Stats,
                        "identify" => RecordKind::Identify,
                        _ => return None,
                    });
                }
                "id" => {
                    once(&mut seen, 4)?;
                    self.skip(0)?;
                }
                "timestamp" => {
                    once(&mut seen, 8)?;
                    timestamp = Some(self.string()?);
                }
                "name" => {
                    once(&mut seen, 16)?;
                    name = Some(self.string()?);
                }
                "version" => {
                    once(&mut seen, 32)?;
                    self.small_uint()?;
                }
                "properties" => {
                    once(&mut seen, 64)?;
                    let start = self.i;
                    self.skip(0)?;
                    properties = Some(self.s.get(start..self.i)?);
                }
                "context" => {
                    once(&mut seen, 128)?;
                    context = Some(self.context()?);
                }
                "call" => {
                    once(&mut seen, 256)?;
                    call = if self.null() {
                        None
                    } else {
                        Some(self.call()?)
                    };
                }
                "sample_rate" => {
                    once(&mut seen, 512)?;
                    sample_rate = if self.null() {
                        None
                    } else {
                        Some(self.float()?)
                    };
                }
                _ => self.skip(0)?,
            }
            if !self.next_member()? {
                break;
            }
        }
        let (user_id, anonymous_id, context) = context?;
        // `format` and `version` are required too.
        if seen & (1 | 4 | 32) != (1 | 4 | 32) {
            return None;
        }
        Some(Fields {
            kind: kind?,
            timestamp: timestamp?,
            name: name?,
            user_id,
            anonymous_id,
            context,
            call,
            sample_rate,
            properties: properties?,
        })
    }

    /// An optional string: `null` is none.
    fn optional_string(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    #[allow(clippy::type_complexity)]
    fn context(&mut self) -> Option<(Option<&'a str>, Option<&'a str>, [&'a str; 4])> {
        self.eat(b'{')?;
        let mut seen = 0u32;
        let (mut user_id, mut anonymous_id) = (None, None);
        let mut fields: [Option<&'a str>; 4] = [None; 4];
        if self.peek() == Some(b'}') {
            return None;
        }
        loop {
            let key = self.key()?;
            let slot = match key {
                "app_name" => Some(0),
                "app_version" => Some(1),
                "os" => Some(2),
                "arch" => Some(3),
                _ => None,
            };
            match (slot, key) {
                (Some(n), _) => {
                    once(&mut seen, 1 << n)?;
                    fields[n] = Some(self.string()?);
                }
                (None, "user_id") => {
                    once(&mut seen, 16)?;
                    user_id = self.optional_string()?;
                }
                (None, "anonymous_id") => {
                    once(&mut seen, 32)?;
                    anonymous_id = self.optional_string()?;
                }
                _ => self.skip(1)?,
            }
            if !self.next_member()? {
                break;
            }
        }
        let [a, b, c, d] = fields;
        Some((user_id, anonymous_id, [a?, b?, c?, d?]))
    }

    fn call(&mut self) -> Option<(&'a str, f64, Outcome, Option<&'a str>)> {
        self.eat(b'{')?;
        let mut seen = 0u32;
        let (mut function, mut duration, mut outcome, mut error_kind) = (None, None, None, None);
        if self.peek() == Some(b'}') {
            return None;
        }
        loop {
            match self.key()? {
                "function" => {
                    once(&mut seen, 1)?;
                    function = Some(self.string()?);
                }
                "duration_ms" => {
                    once(&mut seen, 2)?;
                    duration = Some(self.float()?);
                }
                "outcome" => {
                    once(&mut seen, 4)?;
                    outcome = Some(match self.string()? {
                        "ok" => Outcome::Ok,
                        "error" => Outcome::Error,
                        "panicked" => Outcome::Panicked,
                        "cancelled" => Outcome::Cancelled,
                        _ => return None,
                    });
                }
                "error_kind" => {
                    once(&mut seen, 8)?;
                    error_kind = self.optional_string()?;
                }
                _ => self.skip(1)?,
            }
            if !self.next_member()? {
                break;
            }
        }
        Some((function?, duration?, outcome?, error_kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_finds_the_first_one() {
        for filler in [b'a', 0xc3, b' ', 0x7f] {
            for byte in 0..=255u8 {
                for at in 0..8 {
                    let mut b = [filler; 8];
                    b[at] = byte;
                    let word = u64::from_le_bytes(b);
                    let first = b
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                        .map(|i| i as u32);
                    let found = special_bytes(word);
                    let found = (found != 0).then(|| found.trailing_zeros() / 8);
                    assert_eq!(found, first, "{b:?}");
                }
            }
        }
    }
}
