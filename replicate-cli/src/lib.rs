//! The `replicate` command line: will run models, manage predictions and files, pull schemas for the macro cache, and start the emulator (not built yet).
