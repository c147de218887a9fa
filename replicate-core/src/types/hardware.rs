//! Hardware that models and deployments can run on (`GET /hardware`, a bare JSON array).

use serde::{Deserialize, Serialize};

/// A kind of hardware: its display name and the SKU used in requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hardware {
    /// The name of the hardware, for example `Nvidia T4 GPU`.
    pub name: String,
    /// The SKU of the hardware, for example `gpu-t4`.
    pub sku: String,
}
