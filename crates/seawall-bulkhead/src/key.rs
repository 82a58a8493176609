//! How a request names its partition.

/// Reads the partition a request belongs to.
///
/// Implemented for every closure `Fn(&Req) -> Option<&str>`, which is what
/// [`Builder::partition_key`](crate::Builder::partition_key) takes. The key
/// is borrowed from the request and looked up among the configured
/// partitions without allocating; a key that names no partition, or `None`,
/// sends the request to the shared pool.
pub trait PartitionKey<Req> {
    /// The partition `request` belongs to, if any.
    fn partition_key<'r>(&self, request: &'r Req) -> Option<&'r str>;
}

/// The key of a bulkhead without partitions: every request uses the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoPartitionKey;

impl<Req> PartitionKey<Req> for NoPartitionKey {
    #[inline]
    fn partition_key<'r>(&self, _request: &'r Req) -> Option<&'r str> {
        None
    }
}

impl<Req, F> PartitionKey<Req> for F
where
    F: Fn(&Req) -> Option<&str>,
{
    #[inline]
    fn partition_key<'r>(&self, request: &'r Req) -> Option<&'r str> {
        self(request)
    }
}
