//! Salesforce record ids: 15 case-sensitive characters (a three-character key prefix naming the
//! object, two for the instance, one reserved, nine base-62 digits) and the 18-character form
//! with a three-character suffix that encodes which letters are upper case, so that the id
//! survives case-insensitive systems. The API returns the 18-character form and accepts both.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// `n` in base 62, left-padded with `0` to `width` digits. The digits sort like the numbers.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.into_iter().map(char::from).collect()
}

fn unbase62(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |n, b| {
        let digit = BASE62.iter().position(|d| *d == b)? as u64;
        n.checked_mul(62)?.checked_add(digit)
    })
}

/// The 3-character case-safety suffix of a 15-character id.
pub fn suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |n, (i, _)| n | (1 << i));
            char::from(SUFFIX[bits])
        })
        .collect()
}

/// A new 18-character id.
pub fn make_id(prefix: &str, pod: &str, seq: u64) -> String {
    let id15 = format!("{prefix}{pod}0{}", base62(seq, 9));
    let suffix = suffix(&id15);
    id15 + &suffix
}

/// A well-formed id taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub prefix: String,
    pub pod: String,
    pub seq: u64,
    /// The canonical 18-character form.
    pub id18: String,
}

/// Parses a 15- or 18-character id. An 18-character id may have had its case changed: the
/// suffix restores it, as Salesforce does.
pub fn parse_id(text: &str) -> Option<ParsedId> {
    if !(text.len() == 15 || text.len() == 18) || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let id15: String = if text.len() == 18 {
        let bits: Vec<usize> = text[15..]
            .bytes()
            .map(|b| SUFFIX.iter().position(|s| *s == b.to_ascii_uppercase()))
            .collect::<Option<_>>()?;
        text[..15]
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if bits[i / 5] & (1 << (i % 5)) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    } else {
        text.to_string()
    };
    let seq = unbase62(&id15[6..15])?;
    Some(ParsedId {
        prefix: id15[..3].to_string(),
        pod: id15[3..5].to_string(),
        seq,
        id18: format!("{id15}{}", suffix(&id15)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_salesforce_suffixes_and_survive_case_changes() {
        // A documented example: 15-character id and its 18-character form.
        assert_eq!(suffix("001A0000006Vm9r"), "IAC");
        let id = make_id("003", "5g", 1_234_567);
        assert_eq!(id.len(), 18);
        let parsed = parse_id(&id).expect("parses");
        assert_eq!(
            (parsed.prefix.as_str(), parsed.pod.as_str(), parsed.seq),
            ("003", "5g", 1_234_567)
        );
        assert_eq!(parsed.id18, id);
        assert_eq!(parse_id(&id[..15]).expect("15").id18, id);
        assert_eq!(parse_id(&id.to_lowercase()).expect("case restored").id18, id);
        assert!(parse_id("not-an-id").is_none());
        assert!(parse_id("003abc").is_none());
        assert!(
            make_id("003", "5g", 9) < make_id("003", "5g", 10),
            "ids sort like their numbers"
        );
        assert!(make_id("003", "5g", 61) < make_id("003", "5g", 62));
    }
}
