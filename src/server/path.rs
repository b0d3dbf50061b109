//! Which request paths the server hands to the service: NUGU only ever calls
//! `{prefix}/{actionName}` and `{prefix}/health`, so a path with dot segments, empty segments or
//! encoded separators (the usual traversal tricks, which an upstream behind the proxy might
//! normalise differently) is refused before any service sees it, and so is, when the public URL
//! has a path prefix, any path outside it.

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `400 bad_path`: a path that does not start with `/` (HTTP/2 lets a client send any
    /// `:path`, such as `../check_in`), a dot segment (`..`, `%2e%2e`), an empty segment (`//`),
    /// or an encoded `/`, `\` or NUL.
    Malformed,
    /// `404 not_found`: not under the public URL's path prefix.
    OutsidePrefix,
}

/// Checks `path` (the request target's path, still percent-encoded) against `prefix` (the
/// public URL's path without a trailing slash, `""` for none).
pub(crate) fn check(path: &str, prefix: &str) -> Result<(), Refusal> {
    // Every segment is checked, the first one too: a path that does not start with `/` has no
    // empty first segment to skip.
    let Some(rest) = path.strip_prefix('/') else {
        return Err(Refusal::Malformed);
    };
    if !rest.is_empty() && has_malformed_segment(rest.as_bytes()) {
        return Err(Refusal::Malformed);
    }
    if !prefix.is_empty() {
        let under = path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'));
        if !under {
            return Err(Refusal::OutsidePrefix);
        }
    }
    Ok(())
}

/// Whether a segment of `path` (without its leading `/`) is empty or only dots (plain or
/// `%2e`), or has a `\` or an encoded `/`, `\` or NUL. One pass over the bytes: this runs
/// on every request.
fn has_malformed_segment(path: &[u8]) -> bool {
    // The segment being read: no byte yet, and only dots so far.
    let (mut empty, mut only_dots) = (true, true);
    let mut i = 0;
    while i < path.len() {
        match path[i] {
            b'/' => {
                if empty || only_dots {
                    return true;
                }
                (empty, only_dots) = (true, true);
                i += 1;
                continue;
            }
            b'\\' => return true,
            b'%' => {
                // An escape's two digits are read within the segment only.
                let code = path
                    .get(i + 1..i + 3)
                    .filter(|code| !code.contains(&b'/') && !code.contains(&b'\\'));
                match code.map(|c| [c[0].to_ascii_lowercase(), c[1].to_ascii_lowercase()]) {
                    Some([b'2', b'f'] | [b'5', b'c'] | [b'0', b'0']) => return true,
                    Some([b'2', b'e']) => i += 3,
                    Some(_) => {
                        only_dots = false;
                        i += 3;
                    }
                    None => {
                        only_dots = false;
                        i += 1;
                    }
                }
            }
            b'.' => i += 1,
            _ => {
                only_dots = false;
                i += 1;
            }
        }
        empty = false;
    }
    empty || only_dots
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as first written, one segment at a time: the oracle of the one-pass scan.
    fn is_malformed_segment_by_split(segment: &str) -> bool {
        if segment.is_empty() || segment.contains('\\') {
            return true;
        }
        let bytes = segment.as_bytes();
        let mut only_dots = true;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let code = bytes.get(i + 1..i + 3).map(<[u8]>::to_ascii_lowercase);
                match code.as_deref() {
                    Some(b"2f" | b"5c" | b"00") => return true,
                    Some(b"2e") => {}
                    _ => only_dots = false,
                }
                i += 3;
            } else {
                only_dots &= bytes[i] == b'.';
                i += 1;
            }
        }
        only_dots
    }

    #[test]
    fn the_one_pass_scan_agrees_with_the_rule_segment_by_segment() {
        // Every path of up to 5 bytes made of the bytes that matter.
        let alphabet: &[u8] = b"/.%2eEfF5c0\\a";
        let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
        let mut all = Vec::new();
        for _ in 0..5 {
            paths = paths
                .iter()
                .flat_map(|p| alphabet.iter().map(move |&b| [p.as_slice(), &[b]].concat()))
                .collect();
            all.extend(paths.iter().cloned());
        }
        for rest in all {
            let rest = String::from_utf8(rest).unwrap();
            let expected = !rest.is_empty() && rest.split('/').any(is_malformed_segment_by_split);
            let found = !rest.is_empty() && has_malformed_segment(rest.as_bytes());
            assert_eq!(found, expected, "{rest:?}");
        }
    }

    #[test]
    fn refuses_traversal_and_paths_outside_the_prefix() {
        for good in ["/nugu/check_in", "/nugu/health", "/nugu/a.b", "/nugu/%41"] {
            assert_eq!(check(good, "/nugu"), Ok(()), "{good}");
        }
        assert_eq!(check("/", ""), Ok(()));
        assert_eq!(check("/check_in", ""), Ok(()));
        for bad in [
            "/nugu/../check_in",
            "/nugu/%2e%2e/check_in",
            "/nugu/%2E./check_in",
            "/nugu/./check_in",
            "/nugu//check_in",
            "//nugu/check_in",
            "/nugu/check_in/",
            "/nugu/a%2fb",
            "/nugu/a%5Cb",
            "/nugu/a\\b",
            "/nugu/a%00",
            "/nugu/...",
            // Without a leading `/` (an HTTP/2 `:path` can be anything): the first segment is
            // checked like the others, and the path is refused as a whole.
            "../check_in",
            "%2e%2e/check_in",
            "./nugu/check_in",
            "nugu/check_in",
            "*",
            "",
        ] {
            assert_eq!(check(bad, "/nugu"), Err(Refusal::Malformed), "{bad}");
            assert_eq!(check(bad, ""), Err(Refusal::Malformed), "{bad}");
        }
        for outside in [
            "/check_in",
            "/nugux/check_in",
            "/nugu",
            "/other/nugu/check_in",
            "/",
        ] {
            assert_eq!(
                check(outside, "/nugu"),
                Err(Refusal::OutsidePrefix),
                "{outside}"
            );
        }
    }
}
