package terraform_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// check inspects the module and returns one message per violated property.
type check struct {
	name string
	run  func(m *module) []string
}

func checks() []check {
	return []check{
		{"provider pinned to AWS 5.x", checkProvider},
		{"variables and outputs documented", checkDocumented},
		{"KMS keys rotate", checkKMS},
		{"artifact bucket locked down", checkBucket},
		{"database private, encrypted, backed up", checkDatabase},
		{"task role least privilege", checkTaskRole},
		{"secrets scoped and encrypted", checkSecrets},
		{"container configuration names", checkContainerEnv},
		{"security groups chain ALB to tasks to database", checkSecurityGroups},
		{"HTTPS only at the load balancer", checkListeners},
		{"extra environment cannot override", checkExtraEnvironment},
		{"metrics not public", checkMetricsPrivate},
		{"logs encrypted and retained", checkLogs},
		{"service private and autoscaled on CPU", checkService},
	}
}

// ---- provider ----------------------------------------------------------------

func checkProvider(m *module) []string {
	for _, tf := range m.all("terraform", "") {
		for _, rp := range tf.children("required_providers") {
			a := rp.attr("aws")
			if a == nil {
				continue
			}
			obj, ok := unwrap(a.Expr).(*hclsyntax.ObjectConsExpr)
			if !ok {
				return []string{"required_providers.aws must be an object with source and version"}
			}
			var problems []string
			if v, ok := literal(item(obj, "source")); !ok || v.Type() != cty.String || v.AsString() != "hashicorp/aws" {
				problems = append(problems, `required_providers.aws.source must be "hashicorp/aws"`)
			}
			v, ok := literal(item(obj, "version"))
			if !ok || v.Type() != cty.String {
				return append(problems, "required_providers.aws.version must be a literal constraint")
			}
			c := v.AsString()
			// Any 5.x from the CI mirror's 5.100.0 on; never 6 or 4.
			for _, tc := range []struct {
				version string
				want    bool
			}{{"5.100.0", true}, {"6.0.0", false}, {"6.1.0", false}, {"4.67.0", false}} {
				got, err := admits(c, tc.version)
				if err != nil {
					problems = append(problems, fmt.Sprintf("required_providers.aws.version %q: %v", c, err))
					break
				}
				if got != tc.want {
					problems = append(problems, fmt.Sprintf("required_providers.aws.version %q: admits %s = %v, want %v", c, tc.version, got, tc.want))
				}
			}
			return problems
		}
	}
	// The first aws block returned above.
	return []string{"no terraform.required_providers.aws block"}
}

var constraintRE = regexp.MustCompile(`^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$`)

// admits reports whether a Terraform version constraint ("~> 5.0",
// ">= 5.1, < 6.0.0") admits version (x.y.z).
func admits(constraint, version string) (bool, error) {
	v, err := semver(version)
	if err != nil {
		return false, err
	}
	for _, part := range strings.Split(constraint, ",") {
		m := constraintRE.FindStringSubmatch(part)
		if m == nil {
			return false, fmt.Errorf("cannot read constraint %q", part)
		}
		op := m[1]
		var c [3]int
		given := 0
		for i := 0; i < 3; i++ {
			if m[2+i] != "" {
				c[i], _ = strconv.Atoi(m[2+i])
				given = i + 1
			}
		}
		cmp := compare(v, c)
		ok := false
		switch op {
		case "", "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case "~>":
			// ~> 5.1 means >= 5.1, < 6; ~> 5.1.2 means >= 5.1.2, < 5.2.
			var upper [3]int
			if given <= 1 {
				return false, fmt.Errorf("~> %d allows any later major version; give a minor version", c[0])
			}
			if given == 2 {
				upper = [3]int{c[0] + 1, 0, 0}
			} else {
				upper = [3]int{c[0], c[1] + 1, 0}
			}
			ok = cmp >= 0 && compare(v, upper) < 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func semver(s string) ([3]int, error) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("version %q is not x.y.z", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, fmt.Errorf("version %q: %w", s, err)
		}
		v[i] = n
	}
	return v, nil
}

func compare(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ---- documentation -------------------------------------------------------------

func checkDocumented(m *module) []string {
	var problems []string
	for _, typ := range []string{"variable", "output"} {
		for _, b := range m.all(typ, "") {
			if strings.TrimSpace(b.attrString("description")) == "" {
				problems = append(problems, b.name()+": no description")
			}
			if typ == "variable" && b.attr("type") == nil {
				problems = append(problems, b.name()+": no type")
			}
		}
	}
	if len(m.all("variable", "")) == 0 || len(m.all("output", "")) == 0 {
		problems = append(problems, "the module declares no variables or no outputs")
	}
	return problems
}

// ---- KMS -------------------------------------------------------------------------

func checkKMS(m *module) []string {
	keys := m.all("resource", "aws_kms_key")
	if len(keys) == 0 {
		return []string{"no aws_kms_key"}
	}
	var problems []string
	for _, k := range keys {
		if on, ok := k.attrBool("enable_key_rotation"); !ok || !on {
			problems = append(problems, k.name()+": enable_key_rotation must be true")
		}
	}
	return problems
}

// ---- S3 ----------------------------------------------------------------------------

// forBucket finds the resources of kind whose bucket attribute references bucket.
func forBucket(m *module, kind, bucket string) []*block {
	var out []*block
	for _, b := range m.all("resource", kind) {
		if a := b.attr("bucket"); a != nil && refersTo(a.Expr, "aws_s3_bucket."+bucket) {
			out = append(out, b)
		}
	}
	return out
}

func checkBucket(m *module) []string {
	buckets := m.all("resource", "aws_s3_bucket")
	if len(buckets) == 0 {
		return []string{"no aws_s3_bucket"}
	}
	var problems []string
	for _, bk := range buckets {
		name := bk.Labels[1]
		ref := "aws_s3_bucket." + name
		if on, ok := bk.attrBool("force_destroy"); ok && on {
			problems = append(problems, bk.name()+": force_destroy must not be true")
		}

		versioned := false
		for _, v := range forBucket(m, "aws_s3_bucket_versioning", name) {
			if vc := v.child("versioning_configuration"); vc != nil && vc.attrString("status") == "Enabled" {
				versioned = true
			}
		}
		if !versioned {
			problems = append(problems, ref+": versioning must be Enabled")
		}

		encrypted := false
		for _, e := range forBucket(m, "aws_s3_bucket_server_side_encryption_configuration", name) {
			for _, r := range e.children("rule") {
				d := r.child("apply_server_side_encryption_by_default")
				if d == nil || d.attrString("sse_algorithm") != "aws:kms" {
					continue
				}
				if a := d.attr("kms_master_key_id"); a != nil && refersTo(a.Expr, "aws_kms_key") {
					encrypted = true
				}
			}
		}
		if !encrypted {
			problems = append(problems, ref+": default encryption must be aws:kms with the stack's aws_kms_key")
		}

		blocked := false
		for _, p := range forBucket(m, "aws_s3_bucket_public_access_block", name) {
			all := true
			for _, f := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
				if on, ok := p.attrBool(f); !ok || !on {
					all = false
					problems = append(problems, fmt.Sprintf("%s: %s must be true", p.name(), f))
				}
			}
			blocked = blocked || all
		}
		if !blocked && len(forBucket(m, "aws_s3_bucket_public_access_block", name)) == 0 {
			problems = append(problems, ref+": no aws_s3_bucket_public_access_block")
		}

		tlsOnly := false
		for _, p := range forBucket(m, "aws_s3_bucket_policy", name) {
			doc := m.policyOf(p, "policy")
			if doc == nil {
				continue
			}
			for _, st := range statements(doc) {
				if denyInsecureTransport(st, ref) {
					tlsOnly = true
				}
			}
		}
		if !tlsOnly {
			problems = append(problems, ref+": the bucket policy must deny every s3 action on the bucket and its objects when aws:SecureTransport is false")
		}
	}
	return problems
}

// denyInsecureTransport reports whether st denies s3:* to everyone on the
// bucket and its objects when the request is not over TLS.
func denyInsecureTransport(st policyStatement, bucketRef string) bool {
	if st.effect != "Deny" || !slices.Contains(st.actions, "s3:*") {
		return false
	}
	everyone := false
	for _, p := range st.principals {
		if p.attrString("type") == "*" && slices.Equal(p.attrStrings("identifiers"), []string{"*"}) {
			everyone = true
		}
	}
	if !everyone {
		return false
	}
	cond := false
	for _, c := range st.conditions {
		if c.attrString("test") == "Bool" && c.attrString("variable") == "aws:SecureTransport" && slices.Equal(c.attrStrings("values"), []string{"false"}) {
			cond = true
		}
	}
	if !cond {
		return false
	}
	var bucket, objects bool
	for _, r := range st.resources {
		text := st.doc.text(r)
		switch text {
		case bucketRef + ".arn":
			bucket = true
		case `"${` + bucketRef + `.arn}/*"`:
			objects = true
		}
	}
	return bucket && objects
}

// ---- RDS -----------------------------------------------------------------------------

func checkDatabase(m *module) []string {
	dbs := m.all("resource", "aws_db_instance")
	if len(dbs) == 0 {
		return []string{"no aws_db_instance"}
	}
	var problems []string
	for _, db := range dbs {
		if on, ok := db.attrBool("storage_encrypted"); !ok || !on {
			problems = append(problems, db.name()+": storage_encrypted must be true")
		}
		if a := db.attr("kms_key_id"); a == nil || !refersTo(a.Expr, "aws_kms_key") {
			problems = append(problems, db.name()+": kms_key_id must be the stack's aws_kms_key")
		}
		if public, ok := db.attrBool("publicly_accessible"); !ok || public {
			problems = append(problems, db.name()+": publicly_accessible must be set to false")
		}
		if skip, ok := db.attrBool("skip_final_snapshot"); ok && skip {
			problems = append(problems, db.name()+": skip_final_snapshot must not be true")
		}
		if a := db.attr("password"); a != nil {
			problems = append(problems, db.name()+": password would be stored in the state; use password_wo or manage_master_user_password")
		}
		problems = append(problems, checkAtLeastOne(m, db, "backup_retention_period")...)
		if a := db.attr("deletion_protection"); a == nil {
			problems = append(problems, db.name()+": deletion_protection must be set")
		} else if v, ok := literal(a.Expr); ok && v.False() {
			problems = append(problems, db.name()+": deletion_protection must not be false")
		}
		sg := db.attr("db_subnet_group_name")
		if sg == nil {
			problems = append(problems, db.name()+": db_subnet_group_name must name a private subnet group")
		} else {
			for _, r := range refs(sg.Expr) {
				g := m.byRef(r)
				if g == nil || g.Labels[0] != "aws_db_subnet_group" {
					continue
				}
				if a := g.attr("subnet_ids"); a == nil || !onlyRefersTo(a.Expr, "aws_subnet.private") {
					problems = append(problems, g.name()+": subnet_ids must be the private subnets only")
				}
			}
		}
		if a := db.attr("vpc_security_group_ids"); a == nil || !onlyRefersTo(a.Expr, "aws_security_group.db") {
			problems = append(problems, db.name()+": vpc_security_group_ids must be the database security group only")
		}
	}
	return problems
}

// checkAtLeastOne requires attribute name of b to be a number >= 1: a literal,
// or a variable whose default is >= 1 and that validates its value.
func checkAtLeastOne(m *module, b *block, name string) []string {
	a := b.attr(name)
	if a == nil {
		return []string{b.name() + ": " + name + " must be set (at least 1)"}
	}
	if v, ok := literal(a.Expr); ok {
		if v.Type() != cty.Number || v.LessThan(cty.NumberIntVal(1)).True() {
			return []string{b.name() + ": " + name + " must be at least 1"}
		}
		return nil
	}
	rs := refs(a.Expr)
	if len(rs) != 1 || !strings.HasPrefix(rs[0], "var.") {
		return []string{b.name() + ": " + name + " must be a number or a variable"}
	}
	var v *block
	for _, vb := range m.all("variable", strings.TrimPrefix(rs[0], "var.")) {
		v = vb
	}
	if v == nil {
		return []string{b.name() + ": " + name + " refers to an undeclared " + rs[0]}
	}
	var problems []string
	if d, ok := literal(attrExpr(v, "default")); !ok || d.Type() != cty.Number || d.LessThan(cty.NumberIntVal(1)).True() {
		problems = append(problems, v.name()+": default must be at least 1")
	}
	validated := false
	for _, val := range v.children("validation") {
		if c := val.attr("condition"); c != nil && strings.Contains(val.text(c.Expr), ">= 1") {
			validated = true
		}
	}
	if !validated {
		problems = append(problems, v.name()+": needs a validation that the value is >= 1")
	}
	return problems
}

func attrExpr(b *block, name string) hclsyntax.Expression {
	if a := b.attr(name); a != nil {
		return a.Expr
	}
	return nil
}

// ---- IAM -------------------------------------------------------------------------------

// rolePolicies returns the policy documents attached inline to the role, and
// the managed policy attachments (which the task role must not have).
func rolePolicies(m *module, role string) (docs []*block, managed []*block, problems []string) {
	ref := "aws_iam_role." + role
	for _, p := range m.all("resource", "aws_iam_role_policy") {
		if a := p.attr("role"); a != nil && refersTo(a.Expr, ref) {
			doc := m.policyOf(p, "policy")
			if doc == nil {
				problems = append(problems, p.name()+": policy must be a data.aws_iam_policy_document so it can be checked")
				continue
			}
			docs = append(docs, doc)
		}
	}
	for _, p := range m.all("resource", "aws_iam_role_policy_attachment") {
		if a := p.attr("role"); a != nil && refersTo(a.Expr, ref) {
			managed = append(managed, p)
		}
	}
	for _, p := range m.all("resource", "aws_iam_policy_attachment") {
		if a := p.attr("roles"); a != nil && refersTo(a.Expr, ref) {
			managed = append(managed, p)
		}
	}
	return docs, managed, problems
}

// The app's task role may do exactly this: list the artifact prefix, read and
// write objects under it, use the KMS key through S3, read the app's secrets.
var taskRoleActions = map[string]bool{
	"s3:ListBucket":                 true,
	"s3:GetObject":                  true,
	"s3:PutObject":                  true,
	"kms:Decrypt":                   true,
	"kms:GenerateDataKey":           true,
	"secretsmanager:GetSecretValue": true,
}

func checkTaskRole(m *module) []string {
	tds := m.all("resource", "aws_ecs_task_definition")
	if len(tds) == 0 {
		return []string{"no aws_ecs_task_definition"}
	}
	var problems []string
	for _, td := range tds {
		a := td.attr("task_role_arn")
		if a == nil {
			problems = append(problems, td.name()+": no task_role_arn")
			continue
		}
		rs := refs(a.Expr)
		if len(rs) != 1 || !strings.HasPrefix(rs[0], "aws_iam_role.") {
			problems = append(problems, td.name()+": task_role_arn must reference one aws_iam_role")
			continue
		}
		role := strings.Split(rs[0], ".")[1]
		docs, managed, ps := rolePolicies(m, role)
		problems = append(problems, ps...)
		for _, p := range managed {
			problems = append(problems, p.name()+": the task role must not get managed policies (they are not scoped to this stack)")
		}
		if len(docs) == 0 {
			problems = append(problems, "aws_iam_role."+role+": the task role has no policy: it cannot reach the artifact bucket")
		}
		for _, doc := range docs {
			for _, st := range statements(doc) {
				problems = append(problems, checkTaskStatement(doc, st)...)
			}
		}
	}
	return problems
}

func checkTaskStatement(doc *block, st policyStatement) []string {
	where := doc.name() + " statement " + strconv.Quote(st.sid)
	var problems []string
	if st.effect != "Allow" {
		return nil // denies only narrow it
	}
	if len(st.actions) == 0 {
		problems = append(problems, where+": actions must be a literal list")
	}
	var s3, kms, secrets bool
	for _, act := range st.actions {
		if !taskRoleActions[act] {
			problems = append(problems, fmt.Sprintf("%s: action %q is not one the app needs", where, act))
		}
		switch {
		case strings.HasPrefix(act, "s3:"):
			s3 = true
		case strings.HasPrefix(act, "kms:"):
			kms = true
		case strings.HasPrefix(act, "secretsmanager:"):
			secrets = true
		}
	}
	if len(st.resources) == 0 {
		problems = append(problems, where+": no resources")
	}
	for _, r := range st.resources {
		text := st.doc.text(r)
		switch {
		case strings.Contains(text, `"*"`) || text == "*":
			problems = append(problems, fmt.Sprintf("%s: resource %s is a wildcard", where, text))
		case s3 && regexp.MustCompile(`^aws_s3_bucket\.\w+\.arn$`).MatchString(text):
			// The bucket itself: listing only, and only under the prefix.
			if !slices.Equal(st.actions, []string{"s3:ListBucket"}) {
				problems = append(problems, where+": on the bucket ARN only s3:ListBucket is allowed")
			}
			if !hasPrefixCondition(st) {
				problems = append(problems, where+": s3:ListBucket needs a StringLike s3:prefix condition on the artifact prefix")
			}
		case s3 && regexp.MustCompile(`^"\$\{aws_s3_bucket\.\w+\.arn\}/\$\{var\.artifact_prefix\}/\*"$`).MatchString(text):
			if slices.Contains(st.actions, "s3:ListBucket") {
				problems = append(problems, where+": s3:ListBucket applies to the bucket, not to objects")
			}
		case kms && regexp.MustCompile(`^aws_kms_key\.\w+\.arn$`).MatchString(text):
		case secrets && (regexp.MustCompile(`^aws_secretsmanager_secret\.\w+(\[[^\]]+\])?\.arn$`).MatchString(text) ||
			regexp.MustCompile(`^\[for \w+ in aws_secretsmanager_secret\.\w+ : \w+\.arn\]$`).MatchString(text)):
		default:
			problems = append(problems, fmt.Sprintf("%s: resource %s is outside the artifact prefix, the KMS key and the app's secrets", where, text))
		}
	}
	if s3 && kms || s3 && secrets || kms && secrets {
		problems = append(problems, where+": keep S3, KMS and secret permissions in separate statements")
	}
	return problems
}

func hasPrefixCondition(st policyStatement) bool {
	for _, c := range st.conditions {
		test := c.attrString("test")
		if (test != "StringLike" && test != "StringLikeIfExists") || c.attrString("variable") != "s3:prefix" {
			continue
		}
		a := c.attr("values")
		if a == nil {
			continue
		}
		text := c.text(a.Expr)
		if strings.Contains(text, "var.artifact_prefix") && !strings.Contains(text, `"*"`) {
			return true
		}
	}
	return false
}

// ---- Secrets ---------------------------------------------------------------------------

// The secrets the app needs, by environment variable.
var secretEnv = []string{
	"FLOWGATE_ADMIN_TOKEN",
	"FLOWGATE_DATABASE_URL",
	"FLOWGATE_GITHUB_PRIVATE_KEY",
	"FLOWGATE_GITHUB_WEBHOOK_SECRET",
	"FLOWGATE_MASTER_KEY",
	"FLOWGATE_RUNTIME_TOKEN",
}

func checkSecrets(m *module) []string {
	var problems []string
	secrets := m.all("resource", "aws_secretsmanager_secret")
	if len(secrets) == 0 {
		return []string{"no aws_secretsmanager_secret"}
	}
	for _, s := range secrets {
		if a := s.attr("kms_key_id"); a == nil || !refersTo(a.Expr, "aws_kms_key") {
			problems = append(problems, s.name()+": kms_key_id must be the stack's aws_kms_key")
		}
	}
	for _, v := range m.all("resource", "aws_secretsmanager_secret_version") {
		if v.attr("secret_string") != nil || v.attr("secret_binary") != nil {
			problems = append(problems, v.name()+": secret_string would be stored in the state; use secret_string_wo")
		}
	}
	// Whoever reads secrets reads only these.
	granted := 0
	for _, doc := range m.all("data", "aws_iam_policy_document") {
		for _, st := range statements(doc) {
			reads := false
			for _, act := range st.actions {
				if strings.HasPrefix(act, "secretsmanager:") || act == "*" {
					reads = true
					if act != "secretsmanager:GetSecretValue" {
						problems = append(problems, fmt.Sprintf("%s: %q: only secretsmanager:GetSecretValue is needed", doc.name(), act))
					}
				}
			}
			if !reads || st.effect != "Allow" {
				continue
			}
			granted++
			for _, r := range st.resources {
				if !onlyRefersTo(r, "aws_secretsmanager_secret") || hasStringLiteral(r) {
					problems = append(problems, fmt.Sprintf("%s: secrets resource %s is not one of the app's secrets", doc.name(), st.doc.text(r)))
				}
			}
		}
	}
	if granted == 0 {
		problems = append(problems, "no role may read the app's secrets: the tasks could not start")
	}
	return problems
}

// hasStringLiteral reports whether e contains a string written out (such as
// "*" or an ARN) rather than only references to resources.
func hasStringLiteral(e hclsyntax.Expression) bool {
	found := false
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if lit, ok := n.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			found = true
		}
		return nil
	})
	return found
}

// ---- Container -------------------------------------------------------------------------

// Every FLOWGATE_* name docs/configuration.md defines.
var knownConfig = map[string]bool{
	"FLOWGATE_ADDR": true, "FLOWGATE_DATA_DIR": true, "FLOWGATE_DATABASE_URL": true,
	"FLOWGATE_ARTIFACTS": true, "FLOWGATE_S3_ENDPOINT": true, "FLOWGATE_ADMIN_TOKEN": true,
	"FLOWGATE_RUNTIME_TOKEN": true, "FLOWGATE_MASTER_KEY": true, "FLOWGATE_DEV_REPO": true,
	"FLOWGATE_GITHUB_APP_ID": true, "FLOWGATE_GITHUB_PRIVATE_KEY": true, "FLOWGATE_GITHUB_PRIVATE_KEY_FILE": true,
	"FLOWGATE_GITHUB_WEBHOOK_SECRET": true, "FLOWGATE_GITHUB_API_URL": true, "FLOWGATE_PUBLIC_URL": true,
}

// containerNames returns the names set in the container's environment (with
// each value's source text) and in its secrets.
func containerNames(m *module, td *block) (env map[string]string, secrets []string, problems []string) {
	a := td.attr("container_definitions")
	if a == nil {
		return nil, nil, []string{td.name() + ": no container_definitions"}
	}
	call, ok := unwrap(a.Expr).(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "jsonencode" || len(call.Args) != 1 {
		return nil, nil, []string{td.name() + ": container_definitions must be jsonencode([...]) so it can be checked"}
	}
	tup, ok := unwrap(call.Args[0]).(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, nil, []string{td.name() + ": container_definitions must be a list of containers"}
	}
	env = map[string]string{}
	for _, c := range tup.Exprs {
		obj, ok := unwrap(c).(*hclsyntax.ObjectConsExpr)
		if !ok {
			continue
		}
		for _, e := range envLists(item(obj, "environment")) {
			for _, kv := range e.Exprs {
				o, ok := unwrap(kv).(*hclsyntax.ObjectConsExpr)
				if !ok {
					continue
				}
				if v, ok := literal(item(o, "name")); ok && v.Type() == cty.String {
					env[v.AsString()] = td.text(item(o, "value"))
				}
			}
		}
		secrets = append(secrets, secretNames(m, item(obj, "secrets"))...)
	}
	return env, secrets, nil
}

// envLists returns the literal lists of an environment: the list itself, or
// the list arguments of concat(...). Other arguments (var.extra_environment's
// for expression) name nothing Terraform sets itself.
func envLists(e hclsyntax.Expression) []*hclsyntax.TupleConsExpr {
	switch x := unwrap(e).(type) {
	case *hclsyntax.TupleConsExpr:
		return []*hclsyntax.TupleConsExpr{x}
	case *hclsyntax.FunctionCallExpr:
		var out []*hclsyntax.TupleConsExpr
		if x.Name == "concat" {
			for _, arg := range x.Args {
				out = append(out, envLists(arg)...)
			}
		}
		return out
	}
	return nil
}

// stringLiterals returns every string written out in e.
func stringLiterals(e hclsyntax.Expression) map[string]bool {
	out := map[string]bool{}
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if lit, ok := n.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			out[lit.Val.AsString()] = true
		}
		return nil
	})
	return out
}

// secretNames reads the names of a container's secrets list: literal objects,
// concat(...) of lists, and for expressions over a local map (the map's values).
func secretNames(m *module, e hclsyntax.Expression) []string {
	if e == nil {
		return nil
	}
	var out []string
	switch x := unwrap(e).(type) {
	case *hclsyntax.FunctionCallExpr:
		if x.Name == "concat" {
			for _, arg := range x.Args {
				out = append(out, secretNames(m, arg)...)
			}
		}
	case *hclsyntax.TupleConsExpr:
		for _, el := range x.Exprs {
			if o, ok := unwrap(el).(*hclsyntax.ObjectConsExpr); ok {
				if v, ok := literal(item(o, "name")); ok && v.Type() == cty.String {
					out = append(out, v.AsString())
				}
			}
		}
	case *hclsyntax.ForExpr:
		o, ok := unwrap(x.ValExpr).(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		nameRefs := refs(item(o, "name"))
		if len(nameRefs) != 1 || nameRefs[0] != x.ValVar {
			return nil
		}
		coll := refs(x.CollExpr)
		if len(coll) != 1 || !strings.HasPrefix(coll[0], "local.") {
			return nil
		}
		l := m.locals()[strings.TrimPrefix(coll[0], "local.")]
		if l == nil {
			return nil
		}
		if v, ok := literal(l.Expr); ok && (v.Type().IsObjectType() || v.Type().IsMapType()) {
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.Type() == cty.String {
					out = append(out, ev.AsString())
				}
			}
		}
	}
	return out
}

func checkContainerEnv(m *module) []string {
	var problems []string
	for _, td := range m.all("resource", "aws_ecs_task_definition") {
		env, secrets, ps := containerNames(m, td)
		problems = append(problems, ps...)
		if ps != nil {
			continue
		}
		for name, value := range env {
			if strings.HasPrefix(name, "FLOWGATE_") && !knownConfig[name] {
				problems = append(problems, fmt.Sprintf("%s: %s is not a Flowgate setting (docs/configuration.md)", td.name(), name))
			}
			if slices.Contains(secretEnv, name) {
				problems = append(problems, fmt.Sprintf("%s: %s is a secret: pass it in secrets, not environment (%s)", td.name(), name, value))
			}
		}
		for _, name := range []string{"FLOWGATE_ADDR", "FLOWGATE_ARTIFACTS", "FLOWGATE_GITHUB_APP_ID", "FLOWGATE_PUBLIC_URL"} {
			if _, ok := env[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: environment lacks %s", td.name(), name))
			}
		}
		// Links, the OAuth callback and Secure cookies follow the public address.
		if v, ok := env["FLOWGATE_PUBLIC_URL"]; ok && v != `"https://${local.public_host}"` {
			problems = append(problems, fmt.Sprintf("%s: FLOWGATE_PUBLIC_URL must be \"https://${local.public_host}\" (the domain), got %s", td.name(), v))
		}
		if v, ok := env["FLOWGATE_ARTIFACTS"]; ok && !strings.HasPrefix(v, `"s3://`) {
			problems = append(problems, fmt.Sprintf("%s: FLOWGATE_ARTIFACTS must be an s3:// URL, got %s", td.name(), v))
		}
		for _, name := range secretEnv {
			if !slices.Contains(secrets, name) {
				problems = append(problems, fmt.Sprintf("%s: secrets lack %s", td.name(), name))
			}
		}
		for _, name := range secrets {
			if !knownConfig[name] {
				problems = append(problems, fmt.Sprintf("%s: secret %s is not a Flowgate setting", td.name(), name))
			}
		}
	}
	return problems
}

// checkExtraEnvironment: var.extra_environment reaches the container and
// its validation refuses every name Terraform sets (environment or secret),
// so an input can neither override them nor put a secret in plain text.
func checkExtraEnvironment(m *module) []string {
	vs := m.all("variable", "extra_environment")
	if len(vs) != 1 {
		return []string{"no variable extra_environment"}
	}
	v := vs[0]
	refused := map[string]bool{}
	for _, val := range v.children("validation") {
		if a := val.attr("condition"); a != nil {
			for name := range stringLiterals(a.Expr) {
				refused[name] = true
			}
		}
	}
	var problems []string
	for _, td := range m.all("resource", "aws_ecs_task_definition") {
		env, secrets, ps := containerNames(m, td)
		if ps != nil {
			continue
		}
		names := slices.Concat(slices.Collect(maps.Keys(env)), secrets)
		slices.Sort(names)
		for _, name := range names {
			if !refused[name] {
				problems = append(problems, fmt.Sprintf("%s: extra_environment does not refuse %s", v.name(), name))
			}
		}
		if !refersTo(td.attr("container_definitions").Expr, "var.extra_environment") {
			problems = append(problems, td.name()+": var.extra_environment does not reach the container's environment")
		}
	}
	return problems
}

// checkMetricsPrivate: the HTTPS listener answers /metrics itself (404),
// so the app's metrics never reach the internet.
func checkMetricsPrivate(m *module) []string {
	for _, r := range m.all("resource", "aws_lb_listener_rule") {
		a := r.attr("listener_arn")
		if a == nil || !onlyRefersTo(a.Expr, "aws_lb_listener.https") {
			continue
		}
		act := r.child("action")
		if act == nil || act.attrString("type") != "fixed-response" {
			continue
		}
		fr := act.child("fixed_response")
		if fr == nil || fr.attrString("status_code") != "404" {
			continue
		}
		for _, c := range r.children("condition") {
			if pp := c.child("path_pattern"); pp != nil && slices.Contains(pp.attrStrings("values"), "/metrics") {
				return nil
			}
		}
	}
	return []string{"no listener rule on the HTTPS listener answers /metrics with a fixed 404: the metrics are public"}
}

// ---- Network ---------------------------------------------------------------------------

func checkSecurityGroups(m *module) []string {
	var problems []string
	for _, sg := range m.all("resource", "aws_security_group") {
		if sg.child("ingress") != nil || sg.child("egress") != nil {
			problems = append(problems, sg.name()+": use aws_vpc_security_group_*_rule resources, not inline rules")
		}
	}
	if len(m.all("resource", "aws_security_group_rule")) > 0 {
		problems = append(problems, "aws_security_group_rule: use aws_vpc_security_group_*_rule resources")
	}
	// Who may connect in: the database only from the tasks, the tasks only from the ALB.
	allowedFrom := map[string]string{"db": "tasks", "tasks": "alb"}
	seen := map[string]bool{}
	for _, r := range m.all("resource", "aws_vpc_security_group_ingress_rule") {
		target := ""
		if a := r.attr("security_group_id"); a != nil {
			for group := range allowedFrom {
				if refersTo(a.Expr, "aws_security_group."+group) {
					target = group
				}
			}
		}
		if target == "" {
			continue
		}
		seen[target] = true
		for _, open := range []string{"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} {
			if r.attr(open) != nil {
				problems = append(problems, fmt.Sprintf("%s: the %s group must not accept %s", r.name(), target, open))
			}
		}
		from := r.attr("referenced_security_group_id")
		if from == nil || !onlyRefersTo(from.Expr, "aws_security_group."+allowedFrom[target]) {
			problems = append(problems, fmt.Sprintf("%s: the %s group accepts connections from the %s group only", r.name(), target, allowedFrom[target]))
		}
	}
	for group := range allowedFrom {
		if !seen[group] {
			problems = append(problems, "no ingress rule for aws_security_group."+group)
		}
	}
	return problems
}

func checkListeners(m *module) []string {
	var problems []string
	https := false
	for _, l := range m.all("resource", "aws_lb_listener") {
		switch l.attrString("protocol") {
		case "HTTPS":
			https = true
			if a := l.attr("certificate_arn"); a == nil || !onlyRefersTo(a.Expr, "var.certificate_arn") {
				problems = append(problems, l.name()+": certificate_arn must be var.certificate_arn")
			}
			if l.attr("ssl_policy") == nil {
				problems = append(problems, l.name()+": set ssl_policy (TLS 1.2 or later)")
			}
		default:
			act := l.child("default_action")
			red := (*block)(nil)
			if act != nil && act.attrString("type") == "redirect" {
				red = act.child("redirect")
			}
			if red == nil || red.attrString("protocol") != "HTTPS" || red.attrString("status_code") != "HTTP_301" {
				problems = append(problems, l.name()+": a listener other than HTTPS must only redirect to HTTPS (301)")
			}
		}
	}
	if !https {
		problems = append(problems, "no HTTPS listener")
	}
	for _, v := range m.all("variable", "ssl_policy") {
		if d := v.attrString("default"); d != "" && !strings.Contains(d, "TLS13") && !strings.Contains(d, "TLS-1-2") {
			problems = append(problems, v.name()+": default TLS policy must require TLS 1.2 or later")
		}
	}
	return problems
}

func checkLogs(m *module) []string {
	groups := m.all("resource", "aws_cloudwatch_log_group")
	if len(groups) == 0 {
		return []string{"no aws_cloudwatch_log_group"}
	}
	var problems []string
	for _, g := range groups {
		if a := g.attr("kms_key_id"); a == nil || !refersTo(a.Expr, "aws_kms_key") {
			problems = append(problems, g.name()+": kms_key_id must be the stack's aws_kms_key")
		}
		if g.attr("retention_in_days") == nil {
			problems = append(problems, g.name()+": set retention_in_days")
		}
	}
	return problems
}

func checkService(m *module) []string {
	var problems []string
	services := m.all("resource", "aws_ecs_service")
	if len(services) == 0 {
		return []string{"no aws_ecs_service"}
	}
	for _, s := range services {
		nc := s.child("network_configuration")
		if nc == nil {
			problems = append(problems, s.name()+": no network_configuration")
			continue
		}
		if public, ok := nc.attrBool("assign_public_ip"); !ok || public {
			problems = append(problems, s.name()+": assign_public_ip must be false")
		}
		if a := nc.attr("subnets"); a == nil || !onlyRefersTo(a.Expr, "aws_subnet.private") {
			problems = append(problems, s.name()+": tasks must run in the private subnets")
		}
		if a := nc.attr("security_groups"); a == nil || !onlyRefersTo(a.Expr, "aws_security_group.tasks") {
			problems = append(problems, s.name()+": tasks must use the tasks security group only")
		}
	}
	cpu := false
	for _, p := range m.all("resource", "aws_appautoscaling_policy") {
		if c := p.child("target_tracking_scaling_policy_configuration"); c != nil {
			if pm := c.child("predefined_metric_specification"); pm != nil && pm.attrString("predefined_metric_type") == "ECSServiceAverageCPUUtilization" {
				cpu = true
			}
		}
	}
	if !cpu {
		problems = append(problems, "no target-tracking autoscaling policy on ECSServiceAverageCPUUtilization")
	}
	if len(m.all("resource", "aws_appautoscaling_target")) == 0 {
		problems = append(problems, "no aws_appautoscaling_target")
	}
	return problems
}
