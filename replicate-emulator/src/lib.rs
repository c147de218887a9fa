//! A local Replicate: will serve the Replicate HTTP API in memory for tests (not built yet).
