//! What a host leaves behind: each host is started in a process group of its own (its pid is
//! the group's id), so that whatever it started and left running — a daemon it forked, a
//! `sleep` in the background — can be found and ended once the host itself has ended.
//!
//! Chrome and Firefox start hosts in their own group and never look back: what a host leaves
//! running is adopted by init and runs on. A simulator that did the same would leak a process
//! per test, so this side ends them, and says so in [`HostExit::left_running`].
//!
//! A process that leaves the group (`setsid`, `setpgid`) is not found.
//!
//! [`HostExit::left_running`]: crate::HostExit::left_running

/// Ends every process still in the group `pgid` with SIGKILL and returns their pids (on Linux;
/// elsewhere the group is signalled but its members cannot be listed, and the list is empty).
///
/// Called once the group's leader (the host) has been reaped. The group's id cannot be reused
/// while a member is alive, so the signal reaches only what the host left behind.
pub(crate) fn end_group(pgid: u32) -> Vec<u32> {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return Vec::new();
    };
    if pgid <= 1 || !group_exists(pgid) {
        return Vec::new();
    }
    let left = members(pgid);
    // SAFETY: killpg(2) has no memory-safety preconditions.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    left
}

/// Whether any process is in the group (signal 0 only checks).
fn group_exists(pgid: libc::pid_t) -> bool {
    // SAFETY: killpg(2) with signal 0 sends nothing.
    let rc = unsafe { libc::killpg(pgid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The running (not yet exited) processes of the group, from `/proc/<pid>/stat`.
#[cfg(target_os = "linux")]
fn members(pgid: libc::pid_t) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|(state, group)| group == pgid && !matches!(state, 'Z' | 'X'))
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(not(target_os = "linux"))]
fn members(_pgid: libc::pid_t) -> Vec<u32> {
    Vec::new()
}

/// The state letter and the process group of a `/proc/<pid>/stat` line. The command name
/// (in parentheses) may hold spaces and parentheses, so fields are counted from the last `)`.
#[cfg(target_os = "linux")]
fn parse_stat(stat: &str) -> Option<(char, libc::pid_t)> {
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((state, group))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_awkward_names() {
        assert_eq!(
            parse_stat("123 (sleep) S 1 120 120 0 -1 4194560"),
            Some(('S', 120))
        );
        assert_eq!(parse_stat("124 (a) b (c) Z 1 99 99 0"), Some(('Z', 99)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn an_empty_group_is_left_alone() {
        // No process has a group id this large.
        assert!(end_group(u32::MAX / 2).is_empty());
        // Group 1 (init's, on most systems) is never signalled.
        assert!(end_group(1).is_empty());
    }
}
