# A Coder-style template that runs the workspace on the machine of the provisioner daemon: the agent starts from
# coder_agent.init_script in the background, with no container and no cloud. See README.md for what that implies.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

variable "app_port" {
  type        = number
  description = "The TCP port (on this host) the workspace's hello app listens on"
  default     = 13337
}

variable "workspaces_dir" {
  type        = string
  description = "Where workspace directories are created on the daemon's host"
  default     = "/tmp/kiln-terraform-local"
}

data "coder_provisioner" "me" {}

data "coder_workspace" "me" {}

locals {
  dir = "${var.workspaces_dir}/${data.coder_workspace.me.owner}/${data.coder_workspace.me.name}"
}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"
  dir  = local.dir
  env = {
    WORKSPACE_NAME = data.coder_workspace.me.name
  }
  # The app the workspace offers: a tiny HTTP server (node is on the host, the agent needs it too).
  startup_script = <<-EOT
    echo "preparing ${data.coder_workspace.me.name} in $PWD"
    nohup node -e "require('http').createServer((q, s) => s.end('hello from ${data.coder_workspace.me.name}\n')).listen(${var.app_port}, '127.0.0.1')" > app.log 2>&1 < /dev/null &
  EOT
}

resource "coder_app" "hello" {
  agent_id     = coder_agent.main.id
  slug         = "hello"
  display_name = "Hello"
  url          = "http://127.0.0.1:${var.app_port}"

  healthcheck {
    url       = "http://127.0.0.1:${var.app_port}/"
    interval  = 2
    threshold = 10
  }
}

# The workspace itself: a directory and a process group on this host, present while the workspace runs.
resource "terraform_data" "workspace" {
  count = data.coder_workspace.me.start_count

  input = {
    dir     = local.dir
    pidfile = "${local.dir}/agent.pid"
  }

  # The init script downloads the agent from the server and runs it; setsid gives it (and everything its startup
  # script starts) a process group of its own, which the destroy provisioner ends.
  provisioner "local-exec" {
    command = <<-EOT
      mkdir -p "$DIR"
      cd "$DIR"
      setsid sh -c "$INIT_SCRIPT" > agent.log 2>&1 < /dev/null &
      echo $! > agent.pid
      echo "agent started (pid $(cat agent.pid)); its log: $DIR/agent.log"
    EOT
    environment = {
      DIR               = local.dir
      INIT_SCRIPT       = coder_agent.main.init_script
      CODER_AGENT_TOKEN = coder_agent.main.token
    }
  }

  # On stop and delete: SIGTERM to the agent (it runs its shutdown and reports off), then end its whole group.
  provisioner "local-exec" {
    when    = destroy
    command = <<-EOT
      pid=$(cat "${self.input.pidfile}" 2>/dev/null || true)
      if [ -z "$pid" ]; then echo "no agent pid recorded"; exit 0; fi
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "${self.input.pidfile}"
      echo "agent $pid stopped"
    EOT
  }
}

resource "coder_metadata" "workspace" {
  count       = data.coder_workspace.me.start_count
  resource_id = terraform_data.workspace[0].id
  icon        = "/icon/folder.svg"
  daily_cost  = 0

  item {
    key   = "directory"
    value = local.dir
  }
  item {
    key       = "agent token"
    value     = coder_agent.main.token
    sensitive = true
  }
}
