//! kameo actors: will hold one actor per prediction and a supervisor for cancellation, webhooks and rate limits (not built yet).
