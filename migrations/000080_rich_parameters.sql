-- Rich parameters (Coder's `coder_parameter`, echo.json `parameters`, kiln.json `parameters`) and template variables
-- (Terraform `variable` blocks), declared by a version's import and stored with it; the values each build used.

CREATE TABLE template_version_parameters (
  template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
  name text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  type text NOT NULL CHECK (type IN ('string', 'number', 'bool', 'list(string)')),
  form_type text NOT NULL DEFAULT '',
  mutable boolean NOT NULL DEFAULT false,
  default_value text NOT NULL DEFAULT '',
  icon text NOT NULL DEFAULT '',
  -- [{name, description, value, icon}]
  options jsonb NOT NULL DEFAULT '[]',
  validation_regex text NOT NULL DEFAULT '',
  validation_error text NOT NULL DEFAULT '',
  validation_min integer,
  validation_max integer,
  validation_monotonic text NOT NULL DEFAULT '' CHECK (validation_monotonic IN ('', 'increasing', 'decreasing')),
  required boolean NOT NULL,
  ephemeral boolean NOT NULL DEFAULT false,
  display_order integer NOT NULL DEFAULT 0,
  PRIMARY KEY (template_version_id, name)
);

CREATE TABLE template_version_variables (
  template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  type text NOT NULL CHECK (type IN ('string', 'number', 'bool')),
  value text NOT NULL DEFAULT '',
  default_value text NOT NULL DEFAULT '',
  required boolean NOT NULL DEFAULT false,
  sensitive boolean NOT NULL DEFAULT false,
  PRIMARY KEY (template_version_id, name)
);

-- The values a version was created with (`user_variable_values`), kept until its import declares the variables.
-- Never rendered: a sensitive variable's value must not reach an API answer.
ALTER TABLE template_versions ADD COLUMN user_variable_values jsonb NOT NULL DEFAULT '[]';

-- Every build stores the full resolved set: request values, then the previous build's (unless ephemeral), then defaults.
CREATE TABLE workspace_build_parameters (
  workspace_build_id uuid NOT NULL REFERENCES workspace_builds (id) ON DELETE CASCADE,
  name text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (workspace_build_id, name)
);
