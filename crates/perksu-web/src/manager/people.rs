//! People and departments: the tenant's users (list, create, change role, department or
//! status) and its departments (list, create).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{validate, Error, Role, UserStatus};
use perksu_store::{DepartmentRow, NewUser, UserPatch, UserRow};
use serde::Deserialize;

use crate::format::points;
use crate::forms::{run_write, CsrfForm};
use crate::page::{
    pages, redirect_with_flash, render, role_label, Chrome, Failure, PageError, Section,
};
use crate::session::{Manager, Viewer};
use crate::WebState;

/// The roles a manager can give.
const ROLES: &[Role] = &[Role::Employee, Role::Lead, Role::TenantManager];

struct Choice {
    value: String,
    label: String,
}

fn role_choices() -> Vec<Choice> {
    ROLES
        .iter()
        .map(|role| Choice {
            value: role.as_str().to_owned(),
            label: role_label(*role).to_owned(),
        })
        .collect()
}

fn department_choices(departments: &[DepartmentRow]) -> Vec<Choice> {
    departments
        .iter()
        .map(|department| Choice {
            value: department.id.clone(),
            label: department.name.clone(),
        })
        .collect()
}

fn parse_role(text: &str) -> Result<Role, Error> {
    Role::parse(text.trim())
        .filter(|role| ROLES.contains(role))
        .ok_or_else(|| Error::invalid("invalid_field", "Choose a role"))
}

/// An empty choice means no department.
fn department(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

struct UserLine {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    department: String,
    status: &'static str,
    lead_balance: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewUserFields {
    email: String,
    first_name: String,
    last_name: String,
    password: String,
    role: String,
    department_id: String,
}

#[derive(Template)]
#[template(path = "manager/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserLine>,
    roles: Vec<Choice>,
    departments: Vec<Choice>,
    form: NewUserFields,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditUserFields {
    first_name: String,
    last_name: String,
    role: String,
    department_id: String,
    status: String,
}

#[derive(Template)]
#[template(path = "manager/user.html")]
struct UserPage {
    chrome: Chrome,
    id: String,
    email: String,
    roles: Vec<Choice>,
    departments: Vec<Choice>,
    form: EditUserFields,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DepartmentFields {
    name: String,
}

struct DepartmentLine {
    name: String,
    members: i64,
}

#[derive(Template)]
#[template(path = "manager/departments.html")]
struct DepartmentsPage {
    chrome: Chrome,
    departments: Vec<DepartmentLine>,
    form: DepartmentFields,
    error: Option<String>,
}

pages!(UsersPage, UserPage, DepartmentsPage);

async fn read_people(
    state: &WebState,
    viewer: &Viewer,
) -> Result<(Vec<UserRow>, Vec<DepartmentRow>), PageError> {
    let chrome = || viewer.chrome(Section::ManagerPeople);
    let users = state
        .store
        .users(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let departments = state
        .store
        .departments(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    Ok((users, departments))
}

async fn users_page(
    state: &WebState,
    viewer: &Viewer,
    form: NewUserFields,
    error: Option<String>,
) -> Result<UsersPage, PageError> {
    let (users, departments) = read_people(state, viewer).await?;
    let department_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| departments.iter().find(|d| &d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    Ok(UsersPage {
        chrome: viewer.chrome(Section::ManagerPeople),
        users: users
            .iter()
            .map(|user| UserLine {
                id: user.id.clone(),
                name: format!("{} {}", user.first_name, user.last_name),
                email: user.email.clone(),
                role: role_label(user.role),
                department: department_name(&user.department_id),
                status: user.status.as_str(),
                lead_balance: (user.role == Role::Lead)
                    .then(|| points(user.lead_distribution_balance)),
            })
            .collect(),
        roles: role_choices(),
        departments: department_choices(&departments),
        form,
        error,
    })
}

pub async fn users(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let form = NewUserFields {
        role: Role::Employee.as_str().to_owned(),
        ..NewUserFields::default()
    };
    Ok(render(
        StatusCode::OK,
        &users_page(&state, &viewer, form, None).await?,
    ))
}

pub async fn create_user(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(mut form): CsrfForm<NewUserFields>,
) -> Result<Response, PageError> {
    match add_user(&state, &viewer, &form).await {
        Ok(user) => Ok(redirect_with_flash(
            "/manager/users",
            &format!(
                "Added {} {} ({}) as {}.",
                user.first_name,
                user.last_name,
                user.email,
                role_label(user.role).to_lowercase()
            ),
        )),
        Err(Failure::Refused(refusal)) => {
            form.password.clear();
            let page = users_page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn add_user(
    state: &WebState,
    viewer: &Viewer,
    form: &NewUserFields,
) -> Result<UserRow, Failure> {
    let role = parse_role(&form.role)?;
    let email = validate::email(&form.email)?;
    let first_name = validate::name("First name", &form.first_name)?;
    let last_name = validate::name("Last name", &form.last_name)?;
    validate::password(&form.password)?;
    let password_hash = state.store.hash_password(&form.password).await?;
    let new = NewUser {
        tenant_id: None,
        email,
        password_hash,
        first_name,
        last_name,
        role,
        department_id: department(&form.department_id),
        manager_id: None,
    };
    let actor = viewer.actor.clone();
    run_write(&state.store, move |tx| {
        Box::pin(async move { tx.create_user(&actor, new).await })
    })
    .await
}

async fn user_page(
    state: &WebState,
    viewer: &Viewer,
    user_id: &str,
    form: Option<EditUserFields>,
    error: Option<String>,
) -> Result<UserPage, PageError> {
    let chrome = || viewer.chrome(Section::ManagerPeople);
    let user = state
        .store
        .user(&viewer.actor, user_id)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let departments = state
        .store
        .departments(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    // A platform admin is visible to nobody here: their row belongs to no tenant.
    if user.tenant_id != viewer.actor.tenant_id {
        return Err(PageError::from_store(
            Error::not_found(perksu_domain::Entity::User).into(),
            chrome(),
        ));
    }
    let form = form.unwrap_or_else(|| EditUserFields {
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        role: user.role.as_str().to_owned(),
        department_id: user.department_id.clone().unwrap_or_default(),
        status: user.status.as_str().to_owned(),
    });
    Ok(UserPage {
        chrome: chrome(),
        id: user.id,
        email: user.email,
        roles: role_choices(),
        departments: department_choices(&departments),
        form,
        error,
    })
}

pub async fn edit_user(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(user_id): Path<String>,
) -> Result<Response, PageError> {
    Ok(render(
        StatusCode::OK,
        &user_page(&state, &viewer, &user_id, None, None).await?,
    ))
}

pub async fn update_user(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(user_id): Path<String>,
    CsrfForm(form): CsrfForm<EditUserFields>,
) -> Result<Response, PageError> {
    match change_user(&state, &viewer, &user_id, &form).await {
        Ok(user) => Ok(redirect_with_flash(
            "/manager/users",
            &format!(
                "Saved {} {}: {}, {}.",
                user.first_name,
                user.last_name,
                role_label(user.role).to_lowercase(),
                user.status.as_str()
            ),
        )),
        Err(Failure::Refused(refusal)) => {
            let page =
                user_page(&state, &viewer, &user_id, Some(form), Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn change_user(
    state: &WebState,
    viewer: &Viewer,
    user_id: &str,
    form: &EditUserFields,
) -> Result<UserRow, Failure> {
    let patch = UserPatch {
        first_name: Some(validate::name("First name", &form.first_name)?),
        last_name: Some(validate::name("Last name", &form.last_name)?),
        role: Some(parse_role(&form.role)?),
        status: Some(
            UserStatus::parse(form.status.trim())
                .ok_or_else(|| Error::invalid("invalid_field", "Choose a status"))?,
        ),
        department_id: Some(department(&form.department_id)),
        manager_id: None,
    };
    let actor = viewer.actor.clone();
    let user_id = user_id.to_owned();
    run_write(&state.store, move |tx| {
        Box::pin(async move { tx.update_user(&actor, &user_id, patch).await })
    })
    .await
}

async fn departments_page(
    state: &WebState,
    viewer: &Viewer,
    form: DepartmentFields,
    error: Option<String>,
) -> Result<DepartmentsPage, PageError> {
    let (_, departments) = read_people(state, viewer).await?;
    Ok(DepartmentsPage {
        chrome: viewer.chrome(Section::ManagerPeople),
        departments: departments
            .into_iter()
            .map(|department| DepartmentLine {
                name: department.name,
                members: department.member_count,
            })
            .collect(),
        form,
        error,
    })
}

pub async fn departments(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    Ok(render(
        StatusCode::OK,
        &departments_page(&state, &viewer, DepartmentFields::default(), None).await?,
    ))
}

pub async fn create_department(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<DepartmentFields>,
) -> Result<Response, PageError> {
    let created = async {
        let name = validate::name("Department name", &form.name)?;
        let actor = viewer.actor.clone();
        run_write(&state.store, move |tx| {
            Box::pin(async move { tx.create_department(&actor, None, &name).await })
        })
        .await
    };
    match created.await {
        Ok(department) => Ok(redirect_with_flash(
            "/manager/departments",
            &format!("Added the department {}.", department.name),
        )),
        Err(Failure::Refused(refusal)) => {
            let page = departments_page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
