// Regenerates npm-semver.json: what npm's own semver package (the one npm
// bundles) answers for every range × version below. Run from anywhere:
//   node internal/npm/testdata/semver/gen.js
// TestSemverMatchesNPM holds internal/npm's range code to this table.
'use strict';
const { execSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = execSync('npm root -g').toString().trim();
const semver = require(path.join(root, 'npm', 'node_modules', 'semver'));

const ranges = [
  // exact and operators
  '1.2.3', '=1.2.3', 'v1.2.3', '=v1.2.3', '>1.2.3', '>=1.2.3', '<1.2.3', '<=1.2.3', '> 1.2.3', '>= 1.2.3',
  // partial versions under operators
  '1', '1.2', '>1', '>1.2', '<1', '<1.2', '>=1.2', '<=1.2', '<=1', '>=0', '>0', '<0.0.1', '<2.0.0-0',
  // caret
  '^1.2.3', '^1.2', '^1', '^0.2.3', '^0.2', '^0.0.3', '^0.0', '^0', '^1.2.3-beta.2', '^0.0.1-alpha', '^1.x', '^0.x', '^*',
  // tilde
  '~1.2.3', '~1.2', '~1', '~0.2.3', '~0.2', '~0', '~1.2.3-beta.2', '~>1.2',
  // x-ranges
  '*', 'x', 'X', '', '1.x', '1.2.x', '1.*', '1.X', '1.x.x', '*.*.*',
  // hyphen ranges
  '1.2.3 - 2.3.4', '1.2 - 2.3.4', '1.2.3 - 2.3', '1.2.3 - 2', '1 - 2', '0.0.1 - 0.2', '1.0.0-rc.1 - 1.0.0',
  // intersections and unions
  '>=1.2.3 <2.0.0', '>1 <3', '>=1.2.7 <1.3.0', '1.2.7 || >=1.2.9 <2.0.0', '1.x || >=2.5.0 || 5.0.0 - 7.2.3',
  '^2 || ^3', '~1.2.1 >=1.2.3', '>=0.2.0 <0.3.0 || ^2', '<1.0.0 || >=3', '  ^1.2.3  ',
  // prereleases
  '>=1.0.0-rc.1', '>1.0.0-rc.1', '1.2.3-alpha', '>=1.2.3-alpha <1.2.3-beta.10', '<1.0.0-rc.10', '>=1.0.0-rc.2 <1.0.0',
  // build metadata
  '1.2.3+build.5', '^1.2.3+build',
  // not ranges
  '1.2.3.4', 'abc', '^', '~', '<', '>', '=', '>=*', '<*', '1.2.3-01', '1.02', '||', '^1.2.3 ||', '>=', '^^1', '1.2.3 - ', '01.2.3', '1.2.-3', '>=1.2.3 || abc', 'latest',
];

const versions = [
  '0.0.0', '0.0.1', '0.0.2', '0.0.1-alpha', '0.1.0', '0.1.5', '0.2.0', '0.2.3', '0.2.9', '0.3.0',
  '1.0.0-rc.1', '1.0.0-rc.2', '1.0.0-rc.10', '1.0.0-0', '1.0.0', '1.2.0', '1.2.1', '1.2.2',
  '1.2.3-alpha', '1.2.3-alpha.1', '1.2.3-beta.2', '1.2.3-beta.10', '1.2.3-beta', '1.2.3', '1.2.3+build.5',
  '1.2.4', '1.2.7', '1.2.8', '1.2.9', '1.2.10', '1.3.0', '1.9.9', '2.0.0-0', '2.0.0-rc.1', '2.0.0',
  '2.3.4', '2.3.5', '2.4.0', '2.5.0', '3.0.0', '3.1.0-beta', '5.0.0', '7.2.3', '7.2.4', '10.0.0',
];

const table = {
  semver: require(path.join(root, 'npm', 'node_modules', 'semver', 'package.json')).version,
  versions,
  // sorted: versions in npm's ascending order (semver.compare; build metadata ignored, stable)
  sorted: versions.slice().sort((a, b) => semver.compare(a, b) || versions.indexOf(a) - versions.indexOf(b)),
  ranges: ranges.map((r) => ({
    range: r,
    valid: semver.validRange(r) !== null,
    // one character per version: '1' satisfies, '0' does not
    satisfies: versions.map((v) => (semver.satisfies(v, r) ? '1' : '0')).join(''),
    max: semver.maxSatisfying(versions, r),
  })),
};
fs.writeFileSync(path.join(__dirname, 'npm-semver.json'), JSON.stringify(table, null, 1) + '\n');
