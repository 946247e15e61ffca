//! `runtime.PlatformInfo` and its enums.

use serde::{Deserialize, Serialize};

/// `runtime.PlatformOs`: the operating system the browser runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum PlatformOs {
    Mac,
    Win,
    Android,
    Cros,
    Linux,
    Openbsd,
    Fuchsia,
}

/// `runtime.PlatformArch`: the machine's processor architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
pub enum PlatformArch {
    #[serde(rename = "arm")]
    Arm,
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86-32")]
    X86_32,
    #[serde(rename = "x86-64")]
    X86_64,
    #[serde(rename = "mips")]
    Mips,
    #[serde(rename = "mips64")]
    Mips64,
    #[serde(rename = "riscv64")]
    Riscv64,
}

/// `runtime.PlatformNaclArch`: the native client architecture (same values as the machine's,
/// for the architectures Native Client knew).
pub type PlatformNaclArch = PlatformArch;

/// `runtime.PlatformInfo`, as `runtime.getPlatformInfo()` returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PlatformInfo {
    /// The operating system.
    pub os: PlatformOs,
    /// The processor architecture.
    pub arch: PlatformArch,
    /// The native client architecture.
    pub nacl_arch: PlatformNaclArch,
}

impl Default for PlatformInfo {
    /// Linux on x86-64, the simulator's default platform.
    fn default() -> Self {
        PlatformInfo {
            os: PlatformOs::Linux,
            arch: PlatformArch::X86_64,
            nacl_arch: PlatformArch::X86_64,
        }
    }
}
