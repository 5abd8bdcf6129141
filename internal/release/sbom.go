package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// The SBOM is SPDX 2.3 JSON built from what the Go linker recorded in the
// binary (the same data `go version -m` prints): the main module at its
// version and commit, every module compiled in, the Go standard library,
// and the build settings. It needs no tool beyond the standard library and
// describes exactly what was linked, not what go.mod allows.

type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name                  string         `json:"name"`
	SPDXID                string         `json:"SPDXID"`
	VersionInfo           string         `json:"versionInfo,omitempty"`
	DownloadLocation      string         `json:"downloadLocation"`
	FilesAnalyzed         bool           `json:"filesAnalyzed"`
	LicenseConcluded      string         `json:"licenseConcluded"`
	LicenseDeclared       string         `json:"licenseDeclared"`
	CopyrightText         string         `json:"copyrightText"`
	PrimaryPackagePurpose string         `json:"primaryPackagePurpose,omitempty"`
	Checksums             []spdxChecksum `json:"checksums,omitempty"`
	ExternalRefs          []spdxRef      `json:"externalRefs,omitempty"`
	SourceInfo            string         `json:"sourceInfo,omitempty"`
	Comment               string         `json:"comment,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// Artifact names the binary an SBOM describes.
type Artifact struct {
	Name   string // the file name inside the archive, e.g. "flowgate" or "flowgate.exe"
	Label  string // what the release calls it, e.g. "flowgate_v1.2.0_linux_amd64"
	SHA256 []byte // of the binary's bytes
}

var spdxIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// SBOM returns the SPDX document for a binary with build information bi.
// created is the document's timestamp: pass the commit time, so the same
// tag yields the same bytes.
func SBOM(bi *debug.BuildInfo, art Artifact, created time.Time) ([]byte, error) {
	if bi == nil || bi.Main.Path == "" {
		return nil, fmt.Errorf("sbom %s: the binary carries no Go module information", art.Name)
	}
	if len(art.SHA256) != sha256.Size {
		return nil, fmt.Errorf("sbom %s: a SHA-256 of the binary is required", art.Name)
	}
	settings := map[string]string{}
	var settingList []string
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
		settingList = append(settingList, s.Key+"="+s.Value)
	}
	sum := hex.EncodeToString(art.SHA256)

	binID := "SPDXRef-Binary-" + spdxIDUnsafe.ReplaceAllString(art.Name, "-")
	mainID := "SPDXRef-Module-main"
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      "SPDXRef-DOCUMENT",
		Name:        art.Label,
		// Unique per binary and stable across rebuilds of the same tag.
		DocumentNamespace: "https://" + bi.Main.Path + "/spdx/" + art.Label + "-" + sum,
		CreationInfo: spdxCreation{
			Created:  created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: flowgate-releasetool", "Organization: Flowgate"},
		},
	}
	doc.Packages = append(doc.Packages, spdxPackage{
		Name:                  art.Name,
		SPDXID:                binID,
		VersionInfo:           bi.Main.Version,
		DownloadLocation:      noAssertion,
		LicenseConcluded:      noAssertion,
		LicenseDeclared:       noAssertion,
		CopyrightText:         noAssertion,
		PrimaryPackagePurpose: "APPLICATION",
		Checksums:             []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: sum}},
		Comment:               "built by " + bi.GoVersion + " with " + strings.Join(settingList, " "),
	})
	mainLoc := noAssertion
	if rev := settings["vcs.revision"]; rev != "" && settings["vcs"] == "git" {
		mainLoc = "git+https://" + bi.Main.Path + ".git@" + rev
	}
	doc.Packages = append(doc.Packages, modulePackage(mainID, bi.Main.Path, bi.Main.Version, mainLoc, ""))
	doc.Relationships = append(doc.Relationships,
		spdxRelationship{"SPDXRef-DOCUMENT", "DESCRIBES", binID},
		spdxRelationship{binID, "GENERATED_FROM", mainID},
	)

	goVersion := strings.TrimPrefix(bi.GoVersion, "go")
	stdID := "SPDXRef-Module-stdlib"
	std := modulePackage(stdID, "stdlib", bi.GoVersion, noAssertion, "")
	std.ExternalRefs = []spdxRef{purl("stdlib", goVersion)}
	doc.Packages = append(doc.Packages, std)
	doc.Relationships = append(doc.Relationships, spdxRelationship{binID, "CONTAINS", stdID})

	deps := slices.Clone(bi.Deps)
	slices.SortFunc(deps, func(a, b *debug.Module) int { return strings.Compare(a.Path, b.Path) })
	for i, d := range deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		id := fmt.Sprintf("SPDXRef-Module-%d-%s", i+1, spdxIDUnsafe.ReplaceAllString(m.Path, "-"))
		src := ""
		if m.Sum != "" {
			src = "go.sum " + m.Sum
		}
		if d.Replace != nil {
			src = strings.TrimSpace("replaces " + d.Path + "@" + d.Version + "; " + src)
		}
		doc.Packages = append(doc.Packages, modulePackage(id, m.Path, m.Version, noAssertion, src))
		doc.Relationships = append(doc.Relationships, spdxRelationship{binID, "CONTAINS", id})
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func modulePackage(id, path, version, location, source string) spdxPackage {
	p := spdxPackage{
		Name:             path,
		SPDXID:           id,
		VersionInfo:      version,
		DownloadLocation: location,
		LicenseConcluded: noAssertion,
		LicenseDeclared:  noAssertion,
		CopyrightText:    noAssertion,
		SourceInfo:       source,
	}
	if path != "stdlib" && version != "" && version != "(devel)" {
		p.ExternalRefs = []spdxRef{purl(path, version)}
	}
	return p
}

func purl(path, version string) spdxRef {
	return spdxRef{"PACKAGE-MANAGER", "purl", "pkg:golang/" + path + "@" + version}
}
