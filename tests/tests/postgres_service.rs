//! The private PostgreSQL cluster the tests start (`aas_conformance_tests::postgres`): it
//! answers on its own loopback port, two run side by side, and dropping one stops its
//! postmaster. The storage tests on PostgreSQL build on it.

use aas_conformance_tests::postgres::Postgres;

#[test]
fn a_private_cluster_answers_on_its_own_loopback_port_and_stops_when_dropped() {
    let (first, second) = (Postgres::start(), Postgres::start());
    assert_ne!(first.port, second.port);
    for cluster in [&first, &second] {
        let answer = cluster
            .psql("SELECT current_setting('listen_addresses') || ' ' || current_setting('port')")
            .unwrap_or_else(|e| panic!("psql: {e}"));
        assert_eq!(answer, format!("127.0.0.1 {}", cluster.port));
    }
    first
        .psql("CREATE TABLE only_here (id int)")
        .unwrap_or_else(|e| panic!("psql: {e}"));
    let tables = "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'";
    assert_eq!(first.psql(tables).as_deref(), Ok("1"));
    assert_eq!(
        second.psql(tables).as_deref(),
        Ok("0"),
        "the clusters share nothing"
    );

    let pid = first.pid().unwrap_or_else(|| panic!("no postmaster PID"));
    let port = first.port;
    drop(first);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty()
            || stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
        "postmaster {pid} still runs after the drop: {stat}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers after the drop"
    );
}
