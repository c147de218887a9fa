//! Example predictions: each model with an example input runs once when the emulator starts
//! (sleeps skipped); the prediction becomes its `default_example` and its examples list.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;

use crate::clock::now_micros;
use crate::domain::catalog::Catalog;
use crate::domain::predictions::record::{Cell, Kind, Record};
use crate::domain::predictions::store::Store;
use crate::domain::runtime::Runtime;

/// Runs the example of every model in `catalog` that has one; the predictions go to `examples`.
pub(crate) async fn run_all(rt: &Arc<Runtime>, catalog: &RwLock<Catalog>, examples: &Store) {
    let keys: Vec<String> = catalog
        .read()
        .map(|c| c.models.values().filter(|m| m.example_input.is_some()).map(|m| m.key()).collect())
        .unwrap_or_default();
    for key in keys {
        run_for(rt, catalog, examples, &key).await;
    }
}

/// Runs the example of model `key` and records it as the model's `default_example`.
pub(crate) async fn run_for(rt: &Arc<Runtime>, catalog: &RwLock<Catalog>, examples: &Store, key: &str) {
    let Some(model) = catalog.read().ok().and_then(|c| c.models.get(key).cloned()) else {
        return;
    };
    let (Some(input), Some(version)) = (model.example_input.clone(), model.latest().cloned()) else {
        return;
    };
    let Ok(validated) = version.validate(&input) else {
        return;
    };
    let reported: Arc<str> = if model.official { Arc::from("hidden") } else { version.id.clone() };
    let cell = Arc::new(Cell {
        id: crate::ids::prediction_id().into_boxed_str(),
        kind: Kind::Prediction,
        created: now_micros(),
        rec: Mutex::new(Record::new(Arc::from(key), reported, version.redact(&input))),
        changed: Notify::new(),
    });
    examples.insert(cell.clone());
    let handler =
        model.handler.clone().unwrap_or_else(|| crate::domain::catalog::synth::handler_for(version.clone()));
    crate::domain::predictions::lifecycle::run_example(rt.clone(), cell.clone(), handler, validated).await;
    if let Ok(mut c) = catalog.write()
        && let Some(current) = c.models.get(key).cloned()
    {
        let mut m = (*current).clone();
        m.default_example = Some(Arc::from(&*cell.id));
        c.insert(m);
    }
}
