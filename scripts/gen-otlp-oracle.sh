#!/usr/bin/env bash
# Rebuilds test/fixtures/otlp/otlp.binpb, the FileDescriptorSet of opentelemetry-proto that the
# OTLP codec tests load into @bufbuild/protobuf as their oracle. Run it after updating the .proto
# files under test/fixtures/otlp/proto/ (copied unchanged from open-telemetry/opentelemetry-proto).
# buf compiles the local files only; it comes from the npm registry (npx) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
npx --yes @bufbuild/buf@1.75.0 build test/fixtures/otlp/proto --exclude-source-info -o test/fixtures/otlp/otlp.binpb
echo "wrote test/fixtures/otlp/otlp.binpb"
