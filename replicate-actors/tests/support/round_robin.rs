//! A TCP proxy that hands each connection to the next of several loopback ports in turn: in front of
//! the replicas' webhook receivers, it makes two thirds of three replicas' deliveries land on a
//! replica that does not own the prediction (a delivery is one connection: the receiver closes it).
//! Shared through `#[path]` by `tests/cluster.rs`, `benches/in_flight.rs` and `examples/cluster.rs`.

/// Serves `listener` until the task is dropped.
pub(crate) async fn round_robin(listener: tokio::net::TcpListener, ports: Vec<u16>) {
    let mut next = 0;
    while let Ok((mut inbound, _)) = listener.accept().await {
        let Some(&port) = ports.get(next % ports.len().max(1)) else { return };
        next += 1;
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
