//! RFC 7643 schemas as data.
//!
//! These definitions drive request validation, case rules in filters, PATCH mutability,
//! response projection and the discovery documents, so the server can only advertise
//! what it actually does.

/// URN of the core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the Enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The two resource types this server provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type name (`User` or `Group`), as in `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint path segment (`Users` or `Groups`).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// The core schema of this resource type.
    pub fn core_schema(self) -> &'static Schema {
        match self {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        }
    }

    /// The schema extensions this resource type accepts.
    pub fn extensions(self) -> &'static [&'static Schema] {
        static USER_EXTENSIONS: [&Schema; 1] = [&ENTERPRISE_USER];
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }

    /// Finds an extension schema of this resource type by URN, case-insensitively.
    pub fn extension(self, urn: &str) -> Option<&'static Schema> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

/// An attribute's data type (RFC 7643 section 2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    /// A JSON string.
    String,
    /// A JSON boolean.
    Boolean,
    /// A JSON number with a fractional part allowed.
    Decimal,
    /// A JSON number without a fractional part.
    Integer,
    /// An xsd:dateTime string.
    DateTime,
    /// Base64-encoded binary data.
    Binary,
    /// A URI reference.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Who may change an attribute (RFC 7643 section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the server only.
    ReadOnly,
    /// Freely updated.
    ReadWrite,
    /// Set once, then never changed.
    Immutable,
    /// Accepted but never returned.
    WriteOnly,
}

impl Mutability {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// Always, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never.
    Never,
    /// Unless excluded.
    Default,
    /// Only when asked for with `attributes`.
    Request,
}

impl Returned {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// Uniqueness of an attribute's values (RFC 7643 section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    /// No uniqueness.
    None,
    /// Unique within the team (the "server" scope of one tenant).
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition.
#[derive(Debug)]
pub struct Attribute {
    /// Canonical name.
    pub name: &'static str,
    /// Data type.
    pub ty: AttrType,
    /// Whether the value is an array.
    pub multi_valued: bool,
    /// Human-readable description.
    pub description: &'static str,
    /// Whether a resource must have it.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// Uniqueness scope.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home` for `type`).
    pub canonical_values: &'static [&'static str],
    /// For references: what they may point at.
    pub reference_types: &'static [&'static str],
    /// For complex attributes: the sub-attributes.
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    const fn new(name: &'static str, ty: AttrType, description: &'static str) -> Attribute {
        Attribute {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
    const fn refs(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }
    const fn subs(mut self, subs: &'static [Attribute]) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// Finds a sub-attribute by name, case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub_attributes, name)
    }
}

/// A schema: an id (URN) and its attributes.
#[derive(Debug)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// Top-level attributes.
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// Finds a top-level attribute by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.attributes, name)
    }
}

fn find(attrs: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

use AttrType as T;
use Mutability as M;

const fn s(name: &'static str, description: &'static str) -> Attribute {
    Attribute::new(name, T::String, description)
}

const TYPE_WORK_HOME_OTHER: &[&str] = &["work", "home", "other"];

/// The `value`, `display`, `type`, `primary` quartet of simple multi-valued attributes.
macro_rules! multi_value_subs {
    ($value_desc:literal, $types:expr) => {
        &[
            s("value", $value_desc),
            s(
                "display",
                "A human-readable name, primarily used for display purposes.",
            ),
            s("type", "A label indicating the attribute's function.").canonical($types),
            Attribute::new(
                "primary",
                T::Boolean,
                "Whether this is the primary value; 'true' appears at most once.",
            ),
        ]
    };
}

/// The attributes every resource has (RFC 7643 section 3.1); they are not listed in any
/// schema document.
pub static COMMON: [Attribute; 3] = [
    s("id", "Unique identifier assigned by the service provider.")
        .case_exact()
        .mutability(M::ReadOnly)
        .returned(Returned::Always)
        .unique(),
    s(
        "externalId",
        "Identifier of the resource as defined by the provisioning client.",
    )
    .case_exact(),
    Attribute::new("meta", T::Complex, "Resource metadata.")
        .mutability(M::ReadOnly)
        .subs(&[
            s("resourceType", "The name of the resource type.")
                .case_exact()
                .mutability(M::ReadOnly),
            Attribute::new("created", T::DateTime, "When the resource was added.")
                .mutability(M::ReadOnly),
            Attribute::new(
                "lastModified",
                T::DateTime,
                "When the resource last changed.",
            )
            .mutability(M::ReadOnly),
            Attribute::new("location", T::Reference, "The URI of the resource.")
                .case_exact()
                .mutability(M::ReadOnly),
            s("version", "The version (ETag) of the resource.")
                .case_exact()
                .mutability(M::ReadOnly),
        ]),
];

/// Finds a common attribute (`id`, `externalId`, `meta`) by name, case-insensitively.
pub fn common_attribute(name: &str) -> Option<&'static Attribute> {
    find(&COMMON, name)
}

/// The core User schema (RFC 7643 section 4.1).
pub static USER: Schema = Schema {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &[
        s("userName", "Unique identifier for the User, used to sign in; case-insensitive.")
            .required()
            .unique(),
        Attribute::new("name", T::Complex, "The components of the user's real name.").subs(&[
            s("formatted", "The full name, formatted for display."),
            s("familyName", "The family name (last name)."),
            s("givenName", "The given name (first name)."),
            s("middleName", "The middle name(s)."),
            s("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
            s("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
        ]),
        s("displayName", "The name of the User, suitable for display."),
        s("nickName", "The casual way to address the user."),
        Attribute::new("profileUrl", T::Reference, "A URI of the User's online profile.")
            .refs(&["external"]),
        s("title", "The user's title, such as 'Vice President'."),
        s("userType", "The relationship between the organization and the user."),
        s("preferredLanguage", "The User's preferred written or spoken language."),
        s("locale", "The User's default location for localization."),
        s("timezone", "The User's time zone in the IANA format."),
        Attribute::new("active", T::Boolean, "The User's administrative status."),
        s("password", "Accepted for compatibility but never stored or returned: sshward does not authenticate with passwords.")
            .mutability(M::WriteOnly)
            .returned(Returned::Never),
        Attribute::new("emails", T::Complex, "Email addresses for the user.")
            .multi()
            .subs(multi_value_subs!("The email address.", TYPE_WORK_HOME_OTHER)),
        Attribute::new("phoneNumbers", T::Complex, "Phone numbers for the User.")
            .multi()
            .subs(multi_value_subs!(
                "The phone number.",
                &["work", "home", "mobile", "fax", "pager", "other"]
            )),
        Attribute::new("ims", T::Complex, "Instant messaging addresses for the User.")
            .multi()
            .subs(multi_value_subs!(
                "The instant messaging address.",
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
            )),
        Attribute::new("photos", T::Complex, "URLs of photos of the User.")
            .multi()
            .subs(&[
                Attribute::new("value", T::Reference, "URL of a photo of the User.")
                    .case_exact()
                    .refs(&["external"]),
                s("display", "A human-readable name, primarily used for display purposes."),
                s("type", "A label indicating the attribute's function.")
                    .canonical(&["photo", "thumbnail"]),
                Attribute::new("primary", T::Boolean, "Whether this is the primary photo."),
            ]),
        Attribute::new("addresses", T::Complex, "A physical mailing address for this User.")
            .multi()
            .subs(&[
                s("formatted", "The full mailing address, formatted for display."),
                s("streetAddress", "The full street address component."),
                s("locality", "The city or locality component."),
                s("region", "The state or region component."),
                s("postalCode", "The zip code or postal code component."),
                s("country", "The country name component."),
                s("type", "A label indicating the attribute's function.")
                    .canonical(TYPE_WORK_HOME_OTHER),
                Attribute::new("primary", T::Boolean, "Whether this is the primary address."),
            ]),
        Attribute::new("groups", T::Complex, "The groups the user belongs to, maintained through the Group resources.")
            .multi()
            .mutability(M::ReadOnly)
            .subs(&[
                s("value", "The identifier of the User's group.").mutability(M::ReadOnly),
                Attribute::new("$ref", T::Reference, "The URI of the group.")
                    .mutability(M::ReadOnly)
                    .refs(&["Group"]),
                s("display", "The group's displayName.").mutability(M::ReadOnly),
                s("type", "How the membership was derived: 'direct'.")
                    .mutability(M::ReadOnly)
                    .canonical(&["direct", "indirect"]),
            ]),
        Attribute::new("entitlements", T::Complex, "Entitlements of the User.")
            .multi()
            .subs(multi_value_subs!("The value of an entitlement.", &[])),
        Attribute::new("roles", T::Complex, "Roles of the User.")
            .multi()
            .subs(multi_value_subs!("The value of a role.", &[])),
        Attribute::new("x509Certificates", T::Complex, "X.509 certificates of the User.")
            .multi()
            .subs(&[
                Attribute::new("value", T::Binary, "The DER-encoded certificate, base64.")
                    .case_exact(),
                s("display", "A human-readable name, primarily used for display purposes."),
                s("type", "A label indicating the attribute's function."),
                Attribute::new("primary", T::Boolean, "Whether this is the primary certificate."),
            ]),
    ],
};

/// The Enterprise User extension (RFC 7643 section 4.3).
pub static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        s(
            "employeeNumber",
            "A string identifier assigned by the organization.",
        ),
        s("costCenter", "The name of a cost center."),
        s("organization", "The name of an organization."),
        s("division", "The name of a division."),
        s("department", "The name of a department."),
        Attribute::new("manager", T::Complex, "The User's manager.").subs(&[
            s("value", "The id of the manager's User resource."),
            Attribute::new(
                "$ref",
                T::Reference,
                "The URI of the manager's User resource.",
            )
            .refs(&["User"]),
            s("displayName", "The manager's displayName.").mutability(M::ReadOnly),
        ]),
    ],
};

/// The core Group schema (RFC 7643 section 4.2).
pub static GROUP: Schema = Schema {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &[
        s(
            "displayName",
            "A human-readable name for the Group; unique, case-insensitive.",
        )
        .required()
        .unique(),
        Attribute::new(
            "members",
            T::Complex,
            "The Users that are members of the Group.",
        )
        .multi()
        .subs(&[
            s("value", "The id of the member User.")
                .case_exact()
                .mutability(M::Immutable),
            Attribute::new("$ref", T::Reference, "The URI of the member User.")
                .mutability(M::Immutable)
                .refs(&["User"]),
            // Not in RFC 7643's Group schema, so only returned when asked for
            // (`attributes=members.display`): clients compare members as they sent them.
            s(
                "display",
                "The member's displayName, or userName when it has none.",
            )
            .mutability(M::ReadOnly)
            .returned(Returned::Request),
            s(
                "type",
                "The member's resource type: only 'User' is supported.",
            )
            .mutability(M::Immutable)
            .canonical(&["User"]),
        ]),
    ],
};

// The schemas of the discovery resources themselves (RFC 7643 sections 5 to 7). They are
// read-only documents the server generates; listing them in `/Schemas` lets clients check
// those documents too.

const fn ro(attr: Attribute) -> Attribute {
    attr.mutability(M::ReadOnly)
}

const fn flag(name: &'static str, description: &'static str) -> Attribute {
    ro(Attribute::new(name, T::Boolean, description))
}

const SUPPORTED: &[Attribute] =
    &[flag("supported", "Whether the operation is supported.").required()];

const fn supported(name: &'static str, description: &'static str) -> Attribute {
    ro(Attribute::new(name, T::Complex, description)).subs(SUPPORTED)
}

/// The ServiceProviderConfig schema (RFC 7643 section 5).
pub static SERVICE_PROVIDER_CONFIG: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
    name: "Service Provider Configuration",
    description: "Schema for representing the service provider's configuration",
    attributes: &[
        ro(Attribute::new(
            "documentationUri",
            T::Reference,
            "An HTTP-addressable URL pointing to the service provider's help documentation.",
        ))
        .refs(&["external"]),
        supported("patch", "PATCH configuration options.").required(),
        ro(Attribute::new(
            "bulk",
            T::Complex,
            "Bulk configuration options.",
        ))
        .required()
        .subs(&[
            flag("supported", "Whether bulk is supported.").required(),
            ro(Attribute::new(
                "maxOperations",
                T::Integer,
                "Maximum number of operations.",
            ))
            .required(),
            ro(Attribute::new(
                "maxPayloadSize",
                T::Integer,
                "Maximum payload size in bytes.",
            ))
            .required(),
        ]),
        ro(Attribute::new("filter", T::Complex, "Filter options."))
            .required()
            .subs(&[
                flag("supported", "Whether filtering is supported.").required(),
                ro(Attribute::new(
                    "maxResults",
                    T::Integer,
                    "Maximum number of resources returned.",
                ))
                .required(),
            ]),
        supported("changePassword", "Change password configuration options.").required(),
        supported("sort", "Sort configuration options.").required(),
        supported("etag", "ETag configuration options.").required(),
        ro(Attribute::new(
            "authenticationSchemes",
            T::Complex,
            "Supported authentication schemes.",
        ))
        .multi()
        .required()
        .subs(&[
            ro(s("type", "The authentication scheme."))
                .required()
                .canonical(&[
                    "oauth",
                    "oauth2",
                    "oauthbearertoken",
                    "httpbasic",
                    "httpdigest",
                ]),
            ro(s("name", "The common authentication scheme name.")).required(),
            ro(s(
                "description",
                "A description of the authentication scheme.",
            ))
            .required(),
            ro(Attribute::new(
                "specUri",
                T::Reference,
                "The specification of the scheme.",
            ))
            .refs(&["external"]),
            ro(Attribute::new(
                "documentationUri",
                T::Reference,
                "Documentation of the scheme.",
            ))
            .refs(&["external"]),
            flag("primary", "Whether this is the preferred scheme."),
        ]),
    ],
};

/// The ResourceType schema (RFC 7643 section 6).
pub static RESOURCE_TYPE: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
    name: "ResourceType",
    description: "Specifies the schema that describes a SCIM resource type",
    attributes: &[
        ro(s("id", "The resource type's server unique id.")),
        ro(s("name", "The resource type name.")).required(),
        ro(s(
            "description",
            "The resource type's human-readable description.",
        )),
        ro(Attribute::new(
            "endpoint",
            T::Reference,
            "The resource type's HTTP-addressable endpoint relative to the base URL.",
        ))
        .required()
        .refs(&["uri"]),
        ro(Attribute::new(
            "schema",
            T::Reference,
            "The resource type's primary schema URI.",
        ))
        .required()
        .case_exact()
        .refs(&["uri"]),
        ro(Attribute::new(
            "schemaExtensions",
            T::Complex,
            "A list of URIs of the resource type's schema extensions.",
        ))
        .multi()
        .subs(&[
            ro(Attribute::new(
                "schema",
                T::Reference,
                "The URI of a schema extension.",
            ))
            .required()
            .case_exact()
            .refs(&["uri"]),
            flag("required", "Whether resources must include this extension.").required(),
        ]),
    ],
};

/// The fields describing one attribute in a schema document.
macro_rules! attribute_fields {
    ($($extra:expr),*) => {
        &[
            ro(s("name", "The attribute's name.")).required().case_exact(),
            ro(s("type", "The attribute's data type.")).required().canonical(&[
                "string", "complex", "boolean", "decimal", "integer", "dateTime", "reference", "binary",
            ]),
            flag("multiValued", "Whether the attribute is multi-valued.").required(),
            ro(s("description", "A human-readable description of the attribute.")),
            flag("required", "Whether the attribute is required."),
            ro(s("canonicalValues", "Suggested canonical values.")).multi(),
            flag("caseExact", "Whether string values are case-sensitive."),
            ro(s("mutability", "Whether the attribute is modifiable.")).canonical(&[
                "readOnly", "readWrite", "immutable", "writeOnly",
            ]),
            ro(s("returned", "When the attribute is returned.")).canonical(&[
                "always", "never", "default", "request",
            ]),
            ro(s("uniqueness", "How the service provider enforces uniqueness.")).canonical(&[
                "none", "server", "global",
            ]),
            ro(s("referenceTypes", "The resource types a reference may point at.")).multi(),
            $($extra),*
        ]
    };
}

const SCHEMA_ATTRIBUTE_FIELDS: &[Attribute] = attribute_fields!();

/// The Schema schema (RFC 7643 section 7).
pub static SCHEMA: Schema = Schema {
    id: "urn:ietf:params:scim:schemas:core:2.0:Schema",
    name: "Schema",
    description: "Specifies the schema attributes",
    attributes: &[
        ro(s("id", "The unique URI of the schema."))
            .required()
            .case_exact(),
        ro(s("name", "The schema's human-readable name.")),
        ro(s("description", "The schema's human-readable description.")),
        ro(Attribute::new(
            "attributes",
            T::Complex,
            "The schema's attributes.",
        ))
        .multi()
        .required()
        .subs(attribute_fields!(
            ro(Attribute::new(
                "subAttributes",
                T::Complex,
                "The sub-attributes of a complex attribute."
            ))
            .multi()
            .subs(SCHEMA_ATTRIBUTE_FIELDS)
        )),
    ],
};
