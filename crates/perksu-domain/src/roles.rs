//! Roles, statuses and modes: small closed sets stored and sent as lowercase words.

/// Declares a closed set of values with its stored word for each, and `parse` / `as_str`.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn parse(word: &str) -> Option<$name> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }

            /// The accepted words, for error messages.
            pub fn expected() -> String {
                [$($word),+].join(", ")
            }
        }
    };
}

pub(crate) use word_enum;

word_enum!(
    /// What a user may do. A platform admin belongs to no tenant.
    Role {
        PlatformAdmin => "platform_admin",
        TenantManager => "tenant_manager",
        Lead => "lead",
        Employee => "employee",
    }
);

word_enum!(
    /// A suspended tenant's users can read but move no points.
    TenantStatus {
        Active => "active",
        Suspended => "suspended",
    }
);

word_enum!(
    /// How a tenant's recognitions are funded; see docs/ECONOMY.md.
    FundingMode {
        Pool => "pool",
        Legacy => "legacy",
    }
);

word_enum!(
    /// An inactive user cannot log in or receive recognitions.
    UserStatus {
        Active => "active",
        Inactive => "inactive",
    }
);

impl Role {
    /// Roles that belong to a tenant, the only ones the API can give.
    pub fn is_tenant_role(self) -> bool {
        self != Role::PlatformAdmin
    }
}
