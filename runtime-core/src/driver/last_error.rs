//! `runtime.lastError`: set only while a callback runs after a failed call.

use std::cell::RefCell;

/// `runtime.lastError`: the error of the call whose callback is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastError {
    /// The error's message, e.g. `Could not establish connection. Receiving end does not exist.`
    pub message: String,
}

/// One context's `lastError`, and whether the running callback read it.
#[derive(Default)]
pub(crate) struct LastErrorSlot {
    current: RefCell<Option<(String, bool)>>,
}

impl LastErrorSlot {
    /// Sets the error for the callback about to run.
    pub(crate) fn set(&self, message: String) {
        *self.current.borrow_mut() = Some((message, false));
    }

    /// Reads the error (if a callback after a failed call is running), marking it checked.
    pub(crate) fn read(&self) -> Option<LastError> {
        let mut current = self.current.borrow_mut();
        let (message, checked) = current.as_mut()?;
        *checked = true;
        Some(LastError {
            message: message.clone(),
        })
    }

    /// Whether an error is set, without marking it checked.
    pub(crate) fn is_set(&self) -> bool {
        self.current.borrow().is_some()
    }

    /// Clears the error once the callback has returned; gives it back if it was never read.
    pub(crate) fn clear(&self) -> Option<String> {
        match self.current.borrow_mut().take() {
            Some((message, false)) => Some(message),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_read_by_the_callback_is_checked() {
        let slot = LastErrorSlot::default();
        assert_eq!(slot.read(), None);
        slot.set("boom".into());
        assert_eq!(slot.read().unwrap().message, "boom");
        assert_eq!(slot.clear(), None);
        assert_eq!(slot.read(), None);
        slot.set("unread".into());
        assert_eq!(slot.clear().as_deref(), Some("unread"));
    }
}
