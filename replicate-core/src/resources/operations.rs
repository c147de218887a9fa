//! `operations!`: writes a resource group's operations once and implements them for each client, so that
//! each method shows its real return type (`ApiRequest<Prediction, Plain>` on the async client,
//! `blocking::Request<Prediction, Plain>` on the blocking one) instead of `<C as Backend>::Call<..>`.

/// `operations! { Group { /// docs\n pub fn name(&self, arg: Ty) -> Call<T, M> { body } ... } }`; the body
/// sends through `self.client.call(spec)`.
macro_rules! operations {
    ($group:ident {
        $(
            $(#[$meta:meta])*
            pub fn $name:ident(&$self:ident $(, $arg:ident: $ty:ty)* $(,)?) -> Call<$t:ty, $m:ty> $body:block
        )*
    }) => {
        impl $group<'_, $crate::Replicate> {
            $(
                $(#[$meta])*
                pub fn $name(&$self $(, $arg: $ty)*) -> $crate::ApiRequest<$t, $m> $body
            )*
        }

        #[cfg(feature = "blocking")]
        impl $group<'_, $crate::blocking::Replicate> {
            $(
                $(#[$meta])*
                pub fn $name(&$self $(, $arg: $ty)*) -> $crate::blocking::Request<$t, $m> $body
            )*
        }
    };
}
