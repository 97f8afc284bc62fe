drop table user_imports;
