//! Customer accounts: users, argon2id passwords, login with throttling, and
//! the provider's browser sessions.

mod login;
mod password;
mod session;
mod throttle;
mod users;

pub use login::{authenticate, LoginError};
pub use password::{PasswordHasher, PasswordPolicy, Verified};
pub use session::{BrowserSession, SessionStore};
pub use throttle::{Account, LoginThrottle, ThrottleLimits};
pub(crate) use users::end_grants_and_sessions;
pub use users::{NewUser, User, UserError, Users};
