// Package gridserver joins the two halves of a cluster-mode gridnode: it
// serves a grid member (package grid) through the RESP server (package
// server). Neither of those imports the other; only this package and
// cmd/gridnode know both.
package gridserver
