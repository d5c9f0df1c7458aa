// Package e2e runs gridnode clusters in Docker containers (the reference
// cluster of docker-compose.cluster.yml, built FROM scratch) and checks the
// grid's promises through real RESP clients while containers are stopped,
// killed and restarted.
package e2e
