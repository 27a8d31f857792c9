/**
 * The `coder_agent.init_script` templates, as Coder's provisionersdk hands them to the coder provider: one environment
 * variable per OS and architecture (`CODER_AGENT_SCRIPT_<os>_<arch>`), with `${ACCESS_URL}` and `${AUTH_TYPE}` left
 * for the provider to fill in. kiln's agent is a Node bundle, so every architecture gets the same script: it downloads
 * `<access URL>/bin/kiln-agent.js` with whichever of curl, wget or node exists and runs it with node.
 */

/** Where the server serves the standalone agent (src/api/routes/agentBinary.ts). */
export const AGENT_BUNDLE_PATH = '/bin/kiln-agent.js';

const OPERATING_SYSTEMS = ['linux', 'darwin', 'windows'] as const;
const ARCHITECTURES = ['amd64', 'arm64', 'armv7'] as const;

// The placeholders are filled in by the provider; when the script runs unfilled they read the environment instead.
const UNIX_SCRIPT = `#!/usr/bin/env sh
# kiln agent init script: fetch the agent from the server, then run it (it needs node 20 or later).
set -e
ACCESS_URL="\${ACCESS_URL}"
AUTH_TYPE="\${AUTH_TYPE}"
BASE_URL="\${ACCESS_URL%/}"
AGENT_URL="$BASE_URL${AGENT_BUNDLE_PATH}"
AGENT_DIR=$(mktemp -d -t kiln-agent.XXXXXX)
cd "$AGENT_DIR"
fetch_agent() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --compressed "$AGENT_URL" -o kiln-agent.js
  elif command -v wget >/dev/null 2>&1; then
    wget -q "$AGENT_URL" -O kiln-agent.js
  elif command -v node >/dev/null 2>&1; then
    node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error("HTTP " + r.status); require("fs").writeFileSync("kiln-agent.js", Buffer.from(await r.arrayBuffer())); }).catch((e) => { console.error(e.message); process.exit(1); })' "$AGENT_URL"
  else
    echo "kiln: neither curl, wget nor node is installed: cannot fetch the agent" >&2
    exit 1
  fi
}
until fetch_agent; do
  echo "kiln: could not fetch the agent from $AGENT_URL; retrying in 5 s" >&2
  sleep 5
done
if ! command -v node >/dev/null 2>&1; then
  echo "kiln: the agent needs node (20 or later) on PATH" >&2
  exit 1
fi
export CODER_AGENT_AUTH="$AUTH_TYPE"
export CODER_AGENT_URL="$BASE_URL"
exec node ./kiln-agent.js
`;

const WINDOWS_SCRIPT = `$ErrorActionPreference = "Stop"
$BaseUrl = "\${ACCESS_URL}".TrimEnd("/")
$Dir = Join-Path $env:TEMP "kiln-agent"
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
$Agent = Join-Path $Dir "kiln-agent.js"
while ($true) {
  try { Invoke-WebRequest -Uri "$BaseUrl${AGENT_BUNDLE_PATH}" -OutFile $Agent -UseBasicParsing; break }
  catch { Write-Output "kiln: could not fetch the agent; retrying in 5 s"; Start-Sleep -Seconds 5 }
}
$env:CODER_AGENT_AUTH = "\${AUTH_TYPE}"
$env:CODER_AGENT_URL = $BaseUrl
node $Agent
`;

/** `CODER_AGENT_SCRIPT_<os>_<arch>` → script, for every OS and architecture a template may declare. */
export function agentScriptEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const os of OPERATING_SYSTEMS) {
    for (const arch of ARCHITECTURES) env[`CODER_AGENT_SCRIPT_${os}_${arch}`] = os === 'windows' ? WINDOWS_SCRIPT : UNIX_SCRIPT;
  }
  return env;
}
