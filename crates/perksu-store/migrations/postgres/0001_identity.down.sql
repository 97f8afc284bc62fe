drop table sessions;
drop table users;
drop table departments;
drop table tenants;
