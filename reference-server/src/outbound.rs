//! The server's outbound policy (`[outbound]`, sdt-core's [`OutboundPolicy`]) for push targets:
//! their URLs are checked when a target is created and before it is built for a job, and the
//! host names of Azure and S3 targets resolve through the policy when they connect.
//! (Platforms take the policy directly: sdt-core's client applies it.)

use std::sync::Arc;

use push_core::{AddressNotAllowed, DnsError, DnsFuture, DnsResolver, TargetConfig, TargetError};
use sdt_core::{OutboundError, OutboundPolicy, OutboundReason};

/// Why a push target may not be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetCheckError {
    /// The URL the target contacts is refused (it names the URL, without the SAS, and why).
    #[error(transparent)]
    Refused(#[from] OutboundError),
    /// The URL could not be made from the configuration.
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Checks the URL a target contacts (none for a local directory) against the policy: its
/// scheme, the allowed hosts, and an IP-address host against the address rules (such hosts
/// never reach the resolver).
pub fn check_target(
    policy: &OutboundPolicy,
    config: &TargetConfig,
) -> Result<(), TargetCheckError> {
    match config.target_url()? {
        Some(url) => Ok(policy.check_url(&url)?),
        None => Ok(()),
    }
}

/// The policy as push-core's resolver: a refused host or address is [`AddressNotAllowed`]
/// (the push fails at once, without retries); a name that does not resolve is an ordinary
/// error, which push-core retries as a failed connection.
#[derive(Debug, Clone)]
pub struct PolicyResolver(Arc<OutboundPolicy>);

impl PolicyResolver {
    pub fn new(policy: OutboundPolicy) -> Self {
        Self(Arc::new(policy))
    }
}

impl DnsResolver for PolicyResolver {
    fn resolve(&self, host: &str) -> DnsFuture {
        let (policy, host) = (self.0.clone(), host.to_owned());
        Box::pin(async move {
            policy
                .resolve(&host)
                .await
                .map_err(|error| match error.reason {
                    OutboundReason::Unresolved { .. } => Box::new(error) as DnsError,
                    reason => Box::new(AddressNotAllowed::new(host, reason.to_string())),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn target(json: serde_json::Value) -> Result<TargetConfig, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn target_urls_at_refused_addresses_are_refused_without_showing_the_sas()
    -> Result<(), Box<dyn std::error::Error>> {
        let policy = OutboundPolicy::new();
        let azure = target(
            serde_json::json!({"name": "a", "type": "azure-blob-storage",
            "configuration": {"blobSasUrl": "https://0xa9.0xfe.0xa9.0xfe/acct/c?sv=1&sig=c2VjcmV0"}}),
        )?;
        let message = check_target(&policy, &azure).err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("https://169.254.169.254/acct/c: 169.254.169.254 is link-local: refused")
        );
        let s3 = target(
            serde_json::json!({"name": "s", "type": "s3", "configuration": {
            "bucket": "b", "endpoint": "https://[fd00:ec2::254]", "accessKeyId": "k",
            "secretAccessKey": "s3cr3t"}}),
        )?;
        let message = check_target(&policy, &s3).err().map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("fd00:ec2::254 is a cloud metadata address")
                    && !m.contains("s3cr3t")),
            "{message:?}"
        );
        let aws = target(
            serde_json::json!({"name": "s", "type": "s3", "configuration": {
            "bucket": "b", "region": "eu-west-1", "accessKeyId": "k", "secretAccessKey": "s"}}),
        )?;
        assert!(check_target(&policy, &aws).is_ok());
        let local = target(serde_json::json!({"name": "l", "type": "local-directory",
            "configuration": {"path": "x"}}))?;
        assert!(check_target(&policy, &local).is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn refused_addresses_are_address_not_allowed_and_unresolvable_names_are_not() {
        let resolver = PolicyResolver::new(
            OutboundPolicy::new()
                .with_resolved(
                    "metadata.test",
                    [IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))],
                )
                .with_resolved("empty.test", Vec::<IpAddr>::new()),
        );
        let refused = resolver.resolve("metadata.test").await;
        let refused = refused.err().ok_or("resolved");
        assert!(
            refused
                .as_ref()
                .is_ok_and(|e| e.downcast_ref::<AddressNotAllowed>().is_some()),
            "{refused:?}"
        );
        let unresolved = resolver.resolve("empty.test").await;
        assert!(
            unresolved
                .as_ref()
                .is_err_and(|e| e.downcast_ref::<AddressNotAllowed>().is_none()),
            "{unresolved:?}"
        );
    }
}
