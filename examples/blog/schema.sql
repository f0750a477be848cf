-- The blog's tables (Tornado's demos/blog/schema.sql in MySQL/MariaDB's dialect). The app
-- runs these statements itself at start-up (CREATE TABLE IF NOT EXISTS: existing tables
-- and their rows are kept); to create them by hand:
--   mariadb blog < examples/blog/schema.sql
-- Times are UTC (the app writes UTC_TIMESTAMP()). github_id is set for an author who
-- signed in with GitHub (no password then). Statements are separated by ";" at a line end.

CREATE TABLE IF NOT EXISTS authors (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(100) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    hashed_password VARCHAR(200) NOT NULL,
    github_id BIGINT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS entries (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    author_id INT NOT NULL REFERENCES authors(id),
    slug VARCHAR(100) NOT NULL UNIQUE,
    title VARCHAR(512) NOT NULL,
    markdown MEDIUMTEXT NOT NULL,
    html MEDIUMTEXT NOT NULL,
    published DATETIME NOT NULL,
    updated DATETIME NOT NULL,
    KEY published (published)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
