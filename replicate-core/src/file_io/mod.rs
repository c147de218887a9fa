//! Files in a model's input and output: [`FileInput`] (a path, bytes, a reader or a URL, inlined or
//! uploaded when a run creates its prediction) and [`FileOutput`] (a URL the model answered with, read as
//! bytes, streamed or saved).

mod input;
mod output;
mod std_reader;

pub use input::{FileEncoding, FileInput, INLINE_LIMIT};
pub use output::FileOutput;

pub(crate) use input::{prepare_input, refused_file_input};
pub(crate) use output::{data_url_summary, files_in, with_client};
pub(crate) use std_reader::StdReader;
