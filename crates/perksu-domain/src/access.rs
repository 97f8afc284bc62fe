//! Who may do what. Every check that depends only on the caller's role lives here, so the
//! rules can be read in one place; checks that need data (same tenant, active user) are made
//! by the storage layer inside the transaction that acts.

use crate::error::Error;
use crate::roles::Role;

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    /// `None` only for platform admins.
    pub tenant_id: Option<String>,
}

impl Actor {
    pub fn is_platform_admin(&self) -> bool {
        self.role == Role::PlatformAdmin
    }

    /// The caller's tenant, or a refusal for a platform admin calling a tenant-scoped action.
    pub fn own_tenant(&self) -> Result<&str, Error> {
        self.tenant_id
            .as_deref()
            .ok_or_else(|| Error::forbidden("This action belongs to a tenant user"))
    }

    pub fn require_platform_admin(&self) -> Result<(), Error> {
        if self.is_platform_admin() {
            Ok(())
        } else {
            Err(Error::forbidden("Only a platform admin may do this"))
        }
    }

    pub fn require_tenant_manager(&self) -> Result<&str, Error> {
        if self.role == Role::TenantManager {
            self.own_tenant()
        } else {
            Err(Error::forbidden("Only a tenant manager may do this"))
        }
    }

    /// Platform admins act on any tenant and must name it; tenant managers act on their own
    /// and may omit it (naming another tenant is treated as naming one that does not exist).
    pub fn tenant_for_management<'a>(
        &'a self,
        requested: Option<&'a str>,
    ) -> Result<TenantScope<'a>, Error> {
        match self.role {
            Role::PlatformAdmin => requested
                .map(TenantScope::Named)
                .ok_or_else(|| Error::invalid("tenant_id_required", "tenant_id is required")),
            Role::TenantManager => {
                let own = self.own_tenant()?;
                match requested {
                    Some(other) if other != own => Ok(TenantScope::Foreign),
                    _ => Ok(TenantScope::Named(own)),
                }
            }
            _ => Err(Error::forbidden(
                "Only a platform admin or a tenant manager may do this",
            )),
        }
    }

    /// May this caller see rows of `tenant_id`?
    pub fn can_see_tenant(&self, tenant_id: Option<&str>) -> bool {
        self.is_platform_admin() || (tenant_id.is_some() && tenant_id == self.tenant_id.as_deref())
    }
}

/// The tenant a management action applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantScope<'a> {
    Named(&'a str),
    /// Another tenant than the caller's: answered as not found, never as forbidden-with-data.
    Foreign,
}
