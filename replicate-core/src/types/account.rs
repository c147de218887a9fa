//! Accounts: the authenticated account (`GET /account`) and the creators of deployment releases.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether an account is a user or an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// A personal account.
    User,
    /// An organization account.
    Organization,
    /// An account type this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

impl AccountType {
    /// The account type as the API spells it (`"unknown"` for [`AccountType::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Replicate account: the one the API token belongs to, or the creator of a deployment release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The account type: a user or an organization.
    #[serde(rename = "type")]
    pub kind: AccountType,
    /// The username of the account.
    pub username: String,
    /// The name of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The GitHub URL of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_url: Option<String>,
    /// The avatar URL of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}
