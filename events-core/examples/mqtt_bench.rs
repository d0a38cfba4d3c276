//! MQTT publish throughput of [`MqttSink`] beside a bare rumqttc loop publishing the same bytes,
//! and publish → receive latency through [`MqttSubscriber`], against a broker on 127.0.0.1.
//! `bench/mqtt.sh` starts a Mosquitto and runs this.
//!
//! ```sh
//! cargo run --release -p events-core --example mqtt_bench -- <port> [events] [latency samples]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use events_core::{
    ChangeEvent, Encoding, EventClock, EventKind, EventSink, MqttConfig, MqttSink, MqttSubscriber,
    Subscription,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use aas_conformance_tests::bench_input as sample;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const IN_FLIGHT: u16 = 100;

fn event(submodel: &aas_model::Submodel, clock: &mut EventClock) -> ChangeEvent {
    ChangeEvent::Submodel {
        kind: EventKind::Updated,
        timestamp: clock.next_timestamp(),
        submodel: Box::new(submodel.clone()),
        affected_shell_ids: vec!["https://example.com/aas/1".into()],
    }
}

async fn sink_throughput(port: u16, topic: &str, payload: &[u8], count: usize) -> Result<f64> {
    let config = MqttConfig::new("127.0.0.1", port, "bench-sink").with_max_in_flight(IN_FLIGHT);
    let sink = Arc::new(MqttSink::connect(&config).await?);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (sink, topic, payload) = (sink.clone(), topic.to_owned(), payload.to_vec());
        tasks.spawn(async move { sink.publish_bytes(&topic, payload).await });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    if let Some(sink) = Arc::into_inner(sink) {
        sink.close().await;
    }
    Ok(rate)
}

async fn bare_rumqttc_throughput(
    port: u16,
    topic: &str,
    payload: &[u8],
    count: usize,
) -> Result<f64> {
    let mut options = MqttOptions::new("bench-bare", "127.0.0.1", port);
    options
        .set_clean_session(false)
        .set_inflight(IN_FLIGHT)
        .set_max_packet_size(1 << 24, 1 << 24);
    let (client, mut event_loop) = AsyncClient::new(options, usize::from(IN_FLIGHT) * 2);
    loop {
        if let Event::Incoming(Packet::ConnAck(_)) = event_loop.poll().await? {
            break;
        }
    }
    let started = Instant::now();
    let (topic, payload) = (topic.to_owned(), payload.to_vec());
    let publisher = tokio::spawn(async move {
        for _ in 0..count {
            client
                .publish(topic.clone(), QoS::AtLeastOnce, false, payload.clone())
                .await?;
        }
        Ok::<_, rumqttc::ClientError>(client)
    });
    let mut acknowledged = 0;
    while acknowledged < count {
        if let Event::Incoming(Packet::PubAck(_)) = event_loop.poll().await? {
            acknowledged += 1;
        }
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    publisher.await??.disconnect().await?;
    let _ = tokio::time::timeout(Duration::from_secs(1), event_loop.poll()).await;
    Ok(rate)
}

async fn latency(
    port: u16,
    submodel: &aas_model::Submodel,
    samples: usize,
) -> Result<Vec<Duration>> {
    let encoding = Encoding::twinsphere();
    // A new session each run: an old one would hold every message published since.
    let client_id = format!("bench-subscriber-{}", chrono::Utc::now().timestamp_micros());
    let mut subscriber = MqttSubscriber::connect(
        &MqttConfig::new("127.0.0.1", port, client_id),
        Subscription::new(encoding.clone()),
    )
    .await?;
    let sink = MqttSink::connect(&MqttConfig::new("127.0.0.1", port, "bench-latency")).await?;
    let mut clock = EventClock::new();
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..samples + 100 {
        let message = encoding.encode(&event(submodel, &mut clock))?;
        let started = Instant::now();
        sink.publish(&message).await?;
        match tokio::time::timeout(Duration::from_secs(5), subscriber.next()).await? {
            Some(received) => drop(received?),
            None => return Err("subscriber ended".into()),
        }
        if n >= 100 {
            latencies.push(started.elapsed()); // the first 100 warm up
        }
    }
    sink.close().await;
    subscriber.disconnect().await;
    latencies.sort();
    Ok(latencies)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .get(1)
        .ok_or("usage: mqtt_bench <port> [events] [samples]")?
        .parse()?;
    let count: usize = args.get(2).map_or(Ok(20_000), |s| s.parse())?;
    let samples: usize = args.get(3).map_or(Ok(2_000), |s| s.parse())?;
    let encoding = Encoding::twinsphere();
    let mut clock = EventClock::new();
    for (name, submodel) in [
        ("typical submodel", sample::typical_submodel()),
        ("50 KB submodel", sample::submodel_of_size(50_000)),
    ] {
        let message = encoding.encode(&event(&submodel, &mut clock))?;
        let count = if message.payload.len() > 10_000 {
            count / 4
        } else {
            count
        };
        let (mut ours, mut bare) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            ours.push(sink_throughput(port, &message.topic, &message.payload, count).await?);
            bare.push(
                bare_rumqttc_throughput(port, &message.topic, &message.payload, count).await?,
            );
        }
        ours.sort_by(f64::total_cmp);
        bare.sort_by(f64::total_cmp);
        println!(
            "{name} ({} bytes gzip envelope), {count} QoS 1 publishes x3, median: MqttSink {:.0}/s, \
             bare rumqttc {:.0}/s, ratio {:.2}",
            message.payload.len(),
            ours[1],
            bare[1],
            ours[1] / bare[1]
        );
        let latencies = latency(port, &submodel, samples).await?;
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "{name}: publish -> received and decoded, {samples} sequential events: p50 {:?}, p99 {:?}",
            at(0.50),
            at(0.99)
        );
    }
    Ok(())
}
