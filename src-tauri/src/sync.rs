//! Locking a mutex that a panic elsewhere may have poisoned.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex` even when a panic while it was held poisoned it. Every mutex in the app guards
/// data that stays consistent between calls (a value swapped whole, a SQLite connection), so
/// using it on is safe and better than taking the app down with it.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_mutex_is_used_on() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let held = std::sync::Arc::clone(&mutex);
        let _ = std::thread::spawn(move || {
            let _guard = held.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(mutex.is_poisoned());
        *lock(&mutex) += 1;
        assert_eq!(*lock(&mutex), 2);
    }
}
