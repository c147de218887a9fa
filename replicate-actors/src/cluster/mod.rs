//! Many replicas on one Redis (feature `cluster`): the Redis side ([`redis`]: journal, key claims,
//! budget, leases, deliveries handed over) and a replica's background work ([`tasks`]).

pub(crate) mod redis;
pub(crate) mod tasks;
