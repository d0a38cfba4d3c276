//! Push jobs: serialize AAS shells, submodels and concept descriptions (JSON, XML or AASX) and
//! upload them to a target: an Azure Blob container given by a SAS URL, an S3 bucket, or a
//! local directory, all through `object_store`.
//!
//! # Promises
//!
//! Each is checked by the test named after it (in `tests/` or the module's unit tests).
//!
//! - **Targets are checked when they are built** ([`TargetConfig::build`]): a SAS URL that is
//!   not a URL, has no signature, names a blob, has expired or grants no write/create
//!   permission is refused with a message saying so (`unusable_sas_urls_are_refused_saying_what_is_wrong`,
//!   `read_only_or_expired_sas_is_refused_when_the_target_is_created`).
//! - **https only.** SAS URLs and S3 endpoints must be https; with
//!   [`TargetOptions::allow_insecure`] plain http is accepted only to a loopback host
//!   (127.0.0.0/8, `::1`, `localhost`), never to other hosts
//!   (`plain_http_is_accepted_only_to_loopback_hosts`). No other scheme is accepted
//!   (`only_http_and_https_schemes_are_accepted`). S3 bucket and region names are letters,
//!   digits, `-`, `_` (and `.` in buckets), so they cannot move a request to another host
//!   (`s3_names_that_could_move_the_request_elsewhere_are_refused`).
//! - **Secrets stay hidden**: SAS signatures and S3 secret keys never show in `Debug`,
//!   [`TargetConfig::redacted`] (`secrets_never_show_in_debug_or_redacted_views`),
//!   [`TargetConfig::target_url`] (`target_url_is_where_the_target_connects_without_secrets`)
//!   or failure messages (`a_400_for_an_object_named_report_500_is_tried_exactly_once`,
//!   `every_transient_failure_is_tried_exactly_as_often_as_the_policy_says`).
//! - **Local directories are confined.** Without [`TargetOptions::local_root`],
//!   `local-directory` targets are refused (`local_directory_targets_are_refused_without_a_root`).
//!   With it, a relative `path` is taken relative to the root, an absolute one must lie inside
//!   it, and after resolving `..` and symlinks the directory must stay inside the root,
//!   checked before anything is created (`a_local_directory_leaving_the_root_through_dotdot_is_refused`,
//!   `a_symlink_inside_the_root_pointing_outside_is_refused`,
//!   `a_path_inside_the_root_is_accepted_and_uploads_land_there`). Object names with `..`,
//!   empty or `.` segments, backslashes or a leading `/` are refused for every target
//!   (`local_directory_refuses_names_that_would_leave_it`).
//! - **One retry layer, exactly as documented.** Only the push engine retries, as its
//!   [`RetryPolicy`] says; object_store's own retries are off in built targets. By default:
//!   **at most 3 attempts, waiting 1 s and then 2 s, no attempt starting later than 15 s after
//!   the first** (`the_default_policy_makes_three_attempts`,
//!   `the_default_makes_three_attempts_waiting_one_then_two_seconds_within_fifteen`). A
//!   single-request upload makes exactly as many HTTP requests as the policy allows attempts
//!   (`every_transient_failure_is_tried_exactly_as_often_as_the_policy_says`), and none starts
//!   after the time bound (`no_attempt_starts_later_than_the_policy_allows`).
//! - **Only transient failures are retried**: connection failures and timeouts (by the error
//!   kinds of object_store's `HttpError` and `std::io::Error`) and HTTP 408, 429 and 5xx. The
//!   words of a message never count: a 400 for `report-500.json` is tried once
//!   (`a_400_for_an_object_named_report_500_is_tried_exactly_once`,
//!   `words_in_the_message_do_not_make_an_error_transient`); refused credentials, expired
//!   SAS and missing containers fail at once with a message saying so
//!   (`expired_wrong_deleted_or_unreachable_targets_fail_the_job_with_a_clear_message`).
//! - **Where targets connect can be checked.** [`TargetOptions::dns_resolver`] resolves the
//!   host names of Azure and S3 targets (`host_names_are_resolved_by_the_given_resolver`); a
//!   resolver returning [`AddressNotAllowed`] stops the upload before any connection, without
//!   retries (`a_resolver_that_refuses_every_address_stops_the_upload_before_any_connection`).
//!   [`TargetConfig::target_url`] is the URL a target connects to, for checking hosts written
//!   as addresses.
//! - **Nothing but the configured address is contacted.** Azure and S3 targets (and
//!   [`BlobSasUrl::object_store`]) use push-core's own HTTP client, not object_store's default
//!   one. It follows no redirect: a 3xx answer to the connection test, an upload or any request
//!   of a multipart upload fails it at once with [`PushError::Redirected`] (not transient, no
//!   further attempt), naming only the origin it pointed to, so no request, credential or
//!   `Referer` with a SAS signature reaches another origin, and no address literal in a
//!   `Location` passes by the resolver (`redirects_are_not_followed`,
//!   `a_redirected_job_fails_at_once_without_another_attempt`; the reference server's
//!   `a_push_target_redirecting_to_another_origin_sends_it_nothing`). It sends no `Referer`
//!   and uses no proxy, also not one the environment names (`HTTP_PROXY`, `HTTPS_PROXY`,
//!   `ALL_PROXY`: a proxy would resolve names past the resolver; the reference server's
//!   `push_targets_ignore_proxy_environment_variables`).
//! - **One export**: push jobs and the reference server's `GET /serialization` gather and write
//!   through [`Export::gather`] and [`Export::write`]: unknown ids are listed in one error
//!   (`gather_lists_every_unknown_id`), concept descriptions are those the submodels' semantic ids
//!   refer to, files are read only when asked
//!   (`gather_takes_the_referenced_concept_descriptions_and_files_only_when_asked`), and an AASX
//!   package carries the first thumbnail and every file of [`Source::files`] once
//!   (`a_package_carries_the_first_thumbnail_and_every_path_once`,
//!   `an_aasx_push_carries_the_thumbnail_and_the_files_of_the_source`). MIME types and formats
//!   map both ways through one table, [`SerializationFormat`]
//!   (`every_format_has_one_mime_type_that_names_it_back_and_accept_honours_q_values`).
//! - **Jobs**: every format reads back equal (`every_format_is_pushed_to_azurite_and_reads_back_equal`,
//!   `every_format_is_pushed_to_s3_and_reads_back_equal`); re-running a job replaces its object
//!   (`rerunning_a_job_replaces_its_object_and_completes_again`); cancelled jobs are recorded
//!   as failed (`a_cancelled_job_is_recorded_as_failed`); unknown ids are listed
//!   (`unknown_ids_fail_the_job_listing_them`); JSON kept by the source is joined byte for
//!   byte as writing the elements would give
//!   (`joined_kept_json_is_byte_for_byte_what_writing_the_elements_gives`).
//! - **AAS versions**: a job writes the version its request's `aasVersion` names, else the
//!   engine's ([`PushEngine::with_aas_version`]; the XML namespace of XML and AASX output)
//!   (`a_job_writes_the_version_its_request_names_and_the_engines_by_default`); elements of
//!   another version are converted one by one, and a conversion that loses something fails the
//!   job naming each element, uploading nothing, unless the request says `allowLoss`: then the
//!   job's `metadata.conversion` lists what was lost
//!   (`a_job_to_3_0_of_a_role_shell_fails_naming_it_unless_loss_is_allowed`); unknown versions
//!   are refused when the request is read
//!   (`a_request_names_its_version_as_people_write_it_and_unknown_ones_are_refused`).
//!
//! # Limits
//!
//! - **Time.** Each HTTP request to a target may take [`CONNECT_TIMEOUT`] (5 s) to
//!   connect and [`REQUEST_TIMEOUT`] (30 s) in all, so an upload of up to 32 MiB (one
//!   request) must go through within 30 s. An attempt in progress is never cut off by the
//!   retry policy: a single-request upload ends at the latest `within` + 30 s (45 s by
//!   default) after it started. Larger uploads go up in 8 MiB parts, each request within 30 s;
//!   their whole duration is not bounded, and a transient failure restarts the whole upload.
//! - **Retries** cover uploads only; [`PushTarget::check`] is tried once.
//! - **Addresses.** Hosts written as IP addresses are not resolved, so they never reach
//!   [`TargetOptions::dns_resolver`]: check [`TargetConfig::target_url`] yourself
//!   (`ip_address_hosts_do_not_go_through_the_resolver`). A resolver error other than
//!   [`AddressNotAllowed`] counts as a failed connection, which is transient and retried.
//!   `localhost` counts as loopback by name: it is resolved like any host (by the given
//!   resolver, or the system's).
//! - **Local directories.** The root must exist. Symlinks put inside a target's directory by
//!   someone else are followed by uploads, and a directory swapped for a symlink while a
//!   target is being built can still see directories created outside: the root is meant to
//!   be writable by the server only.
//! - A conversion's failure message and `metadata.conversion` hold at most
//!   [`MAX_CONVERSION_LINES`] (100) lines, then one saying how many more there were.
//! - [`BlobSasUrl::object_store`] is a plain client for other uses: object_store's default
//!   retries (up to 10 within 3 minutes), no resolver.
//! - The HTTP status of a failure is read from object_store 0.14's error message for it (its
//!   `RetryError` cannot be named outside object_store): an object_store update that changes
//!   that message fails the status tests above rather than going unnoticed.
//!
//! # Dependencies
//!
//! - `aas-model`, `aas-serde`: the elements and their JSON, XML and AASX forms.
//! - `object_store` (features `azure`, `aws`, `fs`): one client for Azure Blob (SAS), S3 and a
//!   directory, with multipart uploads and a DNS resolver hook (its retries are turned off).
//! - `reqwest` (features `rustls`, `http2`: those object_store enables): the HTTP client handed
//!   to object_store through its `HttpConnector`, built here to follow no redirects (the
//!   version object_store uses, so the tree keeps one).
//! - `tokio`, `async-trait`, `bytes`: the async traits and job tasks.
//! - `serde` (feature `rc`: a job record shares its request), `serde_json`, `chrono`, `uuid`,
//!   `url`: target configurations and job records.
//! - `percent-encoding`: the `%XX` escapes of a SAS URL's path (account, container).
//! - `mime`: the media ranges of an `Accept` header and their parameters (`q`), for
//!   [`SerializationFormat::negotiate`].
//! - `thiserror`, `tracing`: typed errors, retry warnings.
//! - `regex`: finding the secrets in messages that quote a configuration ([`redact_secrets`]).
//! - `foldhash`: the hasher that drops repeated ids from a request (a big job's ids hash in
//!   less than half the time the standard hasher takes).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

#[cfg(feature = "azure")]
mod azure;
mod client;
mod error;
mod export;
mod job;
mod redact;
mod retry;
mod target;

#[cfg(feature = "azure")]
#[cfg_attr(docsrs, doc(cfg(feature = "azure")))]
pub use azure::BlobSasUrl;
pub use error::{AddressNotAllowed, PushError, TargetError, TransportError};
pub use export::{ConceptDescriptions, Export, ExportError, ExportFile, MAX_CONVERSION_LINES};
pub use job::{
    JobMetadata, JobState, JobStore, MemoryJobStore, PushEngine, PushJob, PushRequest,
    SerializationFormat, Source, SourceError, Targets,
};
/// The resolver interface of [`TargetOptions::dns_resolver`], re-exported so callers need not
/// depend on the same object_store version themselves.
#[cfg(any(feature = "azure", feature = "s3"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "azure", feature = "s3"))))]
pub use object_store::client::{DnsError, DnsFuture, DnsResolver};
pub use redact::REDACTED;
pub use retry::RetryPolicy;
pub use target::{
    CONNECT_TIMEOUT, ObjectStoreTarget, PushTarget, REQUEST_TIMEOUT, TargetBodyError, TargetConfig,
    TargetKind, TargetOptions, UploadedObject, object_path, redact_secrets,
};
