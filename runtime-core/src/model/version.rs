//! Extension versions, compared as Chromium's `base::Version` compares them.

use std::cmp::Ordering;

/// Compares two version strings component by component, numerically; missing components count
/// as 0 (`1.0` equals `1.0.0`). A component that is not a number counts as 0 too: manifests
/// are checked when they are parsed, so that does not happen for installed extensions.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    let parse = |v: &str| -> Vec<u64> {
        v.split('.')
            .map(|part| part.parse::<u64>().unwrap_or(0))
            .collect()
    };
    let (a, b) = (parse(a), parse(b));
    let len = a.len().max(b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

/// Whether `candidate` is a newer version than `current`.
pub(crate) fn is_newer(candidate: &str, current: &str) -> bool {
    compare_versions(candidate, current) == Ordering::Greater
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically_with_missing_parts_as_zero() {
        assert_eq!(compare_versions("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("2", "10"), Ordering::Less);
        assert!(is_newer("2.0", "1.9.9.9"));
        assert!(!is_newer("1.0", "1.0"));
    }
}
