// Package shared finds the upstream files this project's tests need but
// never commits: Linode's OpenAPI description and the static Helm chart
// repository. They live in a "shared" directory beside the checkout (this
// workplace and CI), or where PLATFORM_SHARED_DIR points, or in the cache
// that `make shared` fills from their upstream locations.
package shared
