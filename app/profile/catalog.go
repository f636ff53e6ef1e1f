package profile

import "strings"

// trait is what a dependency tells us about the application.
type trait int

const (
	traitFramework   trait = iota // server-side web framework
	traitFrontEnd                 // browser framework
	traitSQL                      // SQL driver or ORM
	traitNoSQL                    // document/key-value store client
	traitCloud                    // cloud provider SDK
	traitQueue                    // message queue / job system
	traitHTTPClient               // outbound HTTP
	traitTemplate                 // server-side templating
	traitDeserialize              // deserialisers known to be dangerous on untrusted input
	traitXML                      // XML parsers (XXE)
	traitAuth                     // authentication / session / JWT
	traitExec                     // shell/process helpers
	traitRPC                      // gRPC / GraphQL
)

// dep maps a dependency to a trait and the name shown to people.
type dep struct {
	trait trait
	label string
}

// catalog maps ecosystem → dependency name → what it means. A name ending
// in "*" matches by prefix (e.g. every "@aws-sdk/" package). Names are
// compared lower-case; Python names with "_" are normalised to "-".
var catalog = map[string]map[string]dep{
	"npm": {
		"express": {traitFramework, "Express"}, "next": {traitFramework, "Next.js"}, "fastify": {traitFramework, "Fastify"},
		"koa": {traitFramework, "Koa"}, "@nestjs/core": {traitFramework, "NestJS"}, "hapi": {traitFramework, "hapi"},
		"@hapi/hapi": {traitFramework, "hapi"}, "nuxt": {traitFramework, "Nuxt"},
		"react": {traitFrontEnd, "React"}, "vue": {traitFrontEnd, "Vue"}, "@angular/core": {traitFrontEnd, "Angular"},
		"svelte": {traitFrontEnd, "Svelte"},
		"pg":     {traitSQL, "PostgreSQL (pg)"}, "mysql": {traitSQL, "MySQL"}, "mysql2": {traitSQL, "MySQL"},
		"sqlite3": {traitSQL, "SQLite"}, "better-sqlite3": {traitSQL, "SQLite"}, "sequelize": {traitSQL, "Sequelize"},
		"typeorm": {traitSQL, "TypeORM"}, "knex": {traitSQL, "Knex"}, "@prisma/client": {traitSQL, "Prisma"},
		"mssql":   {traitSQL, "SQL Server"},
		"mongodb": {traitNoSQL, "MongoDB"}, "mongoose": {traitNoSQL, "MongoDB (Mongoose)"}, "redis": {traitNoSQL, "Redis"},
		"ioredis": {traitNoSQL, "Redis"},
		"aws-sdk": {traitCloud, "AWS"}, "@aws-sdk/*": {traitCloud, "AWS"}, "@google-cloud/*": {traitCloud, "Google Cloud"},
		"@azure/*": {traitCloud, "Azure"}, "firebase-admin": {traitCloud, "Firebase"},
		"amqplib": {traitQueue, "RabbitMQ"}, "kafkajs": {traitQueue, "Kafka"}, "bull": {traitQueue, "Bull"},
		"bullmq": {traitQueue, "BullMQ"},
		"axios":  {traitHTTPClient, "axios"}, "node-fetch": {traitHTTPClient, "node-fetch"}, "got": {traitHTTPClient, "got"},
		"request": {traitHTTPClient, "request"}, "undici": {traitHTTPClient, "undici"}, "superagent": {traitHTTPClient, "superagent"},
		"ejs": {traitTemplate, "EJS"}, "pug": {traitTemplate, "Pug"}, "handlebars": {traitTemplate, "Handlebars"},
		"hbs": {traitTemplate, "Handlebars"}, "nunjucks": {traitTemplate, "Nunjucks"},
		"node-serialize": {traitDeserialize, "node-serialize"}, "serialize-javascript": {traitDeserialize, "serialize-javascript"},
		"js-yaml": {traitDeserialize, "js-yaml"},
		"xml2js":  {traitXML, "xml2js"}, "libxmljs": {traitXML, "libxmljs"}, "fast-xml-parser": {traitXML, "fast-xml-parser"},
		"jsonwebtoken": {traitAuth, "jsonwebtoken"}, "passport": {traitAuth, "Passport"}, "express-session": {traitAuth, "express-session"},
		"next-auth": {traitAuth, "NextAuth"}, "bcrypt": {traitAuth, "bcrypt"},
		"shelljs": {traitExec, "shelljs"}, "execa": {traitExec, "execa"},
		"graphql": {traitRPC, "GraphQL"}, "@grpc/grpc-js": {traitRPC, "gRPC"},
	},
	"go": {
		"github.com/gin-gonic/gin": {traitFramework, "Gin"}, "github.com/labstack/echo*": {traitFramework, "Echo"},
		"github.com/gofiber/fiber*": {traitFramework, "Fiber"}, "github.com/go-chi/chi*": {traitFramework, "chi"},
		"github.com/gorilla/mux": {traitFramework, "gorilla/mux"},
		"github.com/lib/pq":      {traitSQL, "PostgreSQL"}, "github.com/jackc/pgx*": {traitSQL, "PostgreSQL (pgx)"},
		"github.com/go-sql-driver/mysql": {traitSQL, "MySQL"}, "gorm.io/gorm": {traitSQL, "GORM"},
		"github.com/mattn/go-sqlite3": {traitSQL, "SQLite"}, "modernc.org/sqlite": {traitSQL, "SQLite"},
		"github.com/jmoiron/sqlx":      {traitSQL, "sqlx"},
		"go.mongodb.org/mongo-driver*": {traitNoSQL, "MongoDB"}, "github.com/redis/go-redis*": {traitNoSQL, "Redis"},
		"github.com/go-redis/redis*": {traitNoSQL, "Redis"}, "go.etcd.io/bbolt": {traitNoSQL, "bbolt"},
		"github.com/aws/aws-sdk-go*": {traitCloud, "AWS"}, "cloud.google.com/go*": {traitCloud, "Google Cloud"},
		"github.com/azure/azure-sdk-for-go*": {traitCloud, "Azure"},
		"github.com/segmentio/kafka-go":      {traitQueue, "Kafka"}, "github.com/ibm/sarama": {traitQueue, "Kafka"},
		"github.com/shopify/sarama": {traitQueue, "Kafka"}, "github.com/rabbitmq/amqp091-go": {traitQueue, "RabbitMQ"},
		"github.com/nats-io/nats.go": {traitQueue, "NATS"},
		"github.com/go-resty/resty*": {traitHTTPClient, "resty"},
		"github.com/golang-jwt/jwt*": {traitAuth, "golang-jwt"}, "github.com/coreos/go-oidc*": {traitAuth, "OIDC"},
		"google.golang.org/grpc": {traitRPC, "gRPC"}, "github.com/99designs/gqlgen": {traitRPC, "GraphQL"},
		"gopkg.in/yaml.v2": {traitDeserialize, "yaml.v2"},
	},
	"python": {
		"django": {traitFramework, "Django"}, "flask": {traitFramework, "Flask"}, "fastapi": {traitFramework, "FastAPI"},
		"starlette": {traitFramework, "Starlette"}, "tornado": {traitFramework, "Tornado"}, "pyramid": {traitFramework, "Pyramid"},
		"psycopg2": {traitSQL, "PostgreSQL"}, "psycopg2-binary": {traitSQL, "PostgreSQL"}, "psycopg": {traitSQL, "PostgreSQL"},
		"asyncpg": {traitSQL, "PostgreSQL"}, "pymysql": {traitSQL, "MySQL"}, "mysqlclient": {traitSQL, "MySQL"},
		"sqlalchemy": {traitSQL, "SQLAlchemy"},
		"pymongo":    {traitNoSQL, "MongoDB"}, "motor": {traitNoSQL, "MongoDB"}, "redis": {traitNoSQL, "Redis"},
		"boto3": {traitCloud, "AWS"}, "botocore": {traitCloud, "AWS"}, "google-cloud-*": {traitCloud, "Google Cloud"},
		"azure-*": {traitCloud, "Azure"},
		"celery":  {traitQueue, "Celery"}, "pika": {traitQueue, "RabbitMQ"}, "kombu": {traitQueue, "Kombu"},
		"kafka-python": {traitQueue, "Kafka"}, "confluent-kafka": {traitQueue, "Kafka"},
		"requests": {traitHTTPClient, "requests"}, "httpx": {traitHTTPClient, "httpx"}, "aiohttp": {traitHTTPClient, "aiohttp"},
		"urllib3": {traitHTTPClient, "urllib3"},
		"jinja2":  {traitTemplate, "Jinja2"}, "mako": {traitTemplate, "Mako"},
		"pyyaml": {traitDeserialize, "PyYAML"}, "dill": {traitDeserialize, "dill"}, "jsonpickle": {traitDeserialize, "jsonpickle"},
		"lxml":  {traitXML, "lxml"},
		"pyjwt": {traitAuth, "PyJWT"}, "python-jose": {traitAuth, "python-jose"}, "flask-login": {traitAuth, "Flask-Login"},
		"djangorestframework": {traitFramework, "Django REST framework"}, "graphene": {traitRPC, "GraphQL"},
		"grpcio": {traitRPC, "gRPC"},
	},
	"ruby": {
		"rails": {traitFramework, "Rails"}, "sinatra": {traitFramework, "Sinatra"}, "grape": {traitFramework, "Grape"},
		"pg": {traitSQL, "PostgreSQL"}, "mysql2": {traitSQL, "MySQL"}, "sqlite3": {traitSQL, "SQLite"},
		"activerecord": {traitSQL, "ActiveRecord"}, "sequel": {traitSQL, "Sequel"},
		"mongoid": {traitNoSQL, "MongoDB"}, "redis": {traitNoSQL, "Redis"},
		"aws-sdk*": {traitCloud, "AWS"}, "google-cloud-*": {traitCloud, "Google Cloud"},
		"sidekiq": {traitQueue, "Sidekiq"}, "resque": {traitQueue, "Resque"}, "bunny": {traitQueue, "RabbitMQ"},
		"httparty": {traitHTTPClient, "HTTParty"}, "faraday": {traitHTTPClient, "Faraday"}, "rest-client": {traitHTTPClient, "rest-client"},
		"nokogiri": {traitXML, "Nokogiri"}, "devise": {traitAuth, "Devise"}, "jwt": {traitAuth, "ruby-jwt"},
		"oj": {traitDeserialize, "Oj"},
	},
	"java": {
		"spring-boot-starter-web": {traitFramework, "Spring"}, "spring-webmvc": {traitFramework, "Spring"},
		"spring-boot-starter-webflux": {traitFramework, "Spring"}, "spring-web": {traitFramework, "Spring"},
		"spring-boot-starter*": {traitFramework, "Spring"},
		"postgresql":           {traitSQL, "PostgreSQL"}, "mysql-connector-java": {traitSQL, "MySQL"}, "mysql-connector-j": {traitSQL, "MySQL"},
		"spring-boot-starter-data-jpa": {traitSQL, "JPA"}, "hibernate-core": {traitSQL, "Hibernate"}, "mybatis*": {traitSQL, "MyBatis"},
		"h2": {traitSQL, "H2"}, "spring-boot-starter-jdbc": {traitSQL, "JDBC"},
		"mongodb-driver*": {traitNoSQL, "MongoDB"}, "spring-boot-starter-data-mongodb": {traitNoSQL, "MongoDB"},
		"aws-java-sdk*": {traitCloud, "AWS"}, "google-cloud-*": {traitCloud, "Google Cloud"}, "azure-*": {traitCloud, "Azure"},
		"kafka-clients": {traitQueue, "Kafka"}, "spring-kafka": {traitQueue, "Kafka"}, "amqp-client": {traitQueue, "RabbitMQ"},
		"spring-boot-starter-amqp": {traitQueue, "RabbitMQ"},
		"okhttp":                   {traitHTTPClient, "OkHttp"}, "httpclient": {traitHTTPClient, "Apache HttpClient"},
		"thymeleaf*": {traitTemplate, "Thymeleaf"}, "spring-boot-starter-thymeleaf": {traitTemplate, "Thymeleaf"},
		"freemarker": {traitTemplate, "FreeMarker"}, "velocity*": {traitTemplate, "Velocity"},
		"jackson-databind": {traitDeserialize, "Jackson"}, "xstream": {traitDeserialize, "XStream"}, "snakeyaml": {traitDeserialize, "SnakeYAML"},
		"commons-collections":          {traitDeserialize, "commons-collections"},
		"spring-boot-starter-security": {traitAuth, "Spring Security"}, "jjwt*": {traitAuth, "JJWT"},
		"grpc-*": {traitRPC, "gRPC"},
	},
	"php": {
		"laravel/framework": {traitFramework, "Laravel"}, "symfony/framework-bundle": {traitFramework, "Symfony"},
		"symfony/http-kernel": {traitFramework, "Symfony"}, "slim/slim": {traitFramework, "Slim"},
		"doctrine/dbal": {traitSQL, "Doctrine"}, "doctrine/orm": {traitSQL, "Doctrine"}, "illuminate/database": {traitSQL, "Eloquent"},
		"mongodb/mongodb": {traitNoSQL, "MongoDB"}, "predis/predis": {traitNoSQL, "Redis"},
		"aws/aws-sdk-php": {traitCloud, "AWS"}, "google/cloud*": {traitCloud, "Google Cloud"},
		"guzzlehttp/guzzle": {traitHTTPClient, "Guzzle"}, "symfony/http-client": {traitHTTPClient, "Symfony HttpClient"},
		"twig/twig": {traitTemplate, "Twig"}, "smarty/smarty": {traitTemplate, "Smarty"},
		"firebase/php-jwt": {traitAuth, "php-jwt"}, "php-amqplib/php-amqplib": {traitQueue, "RabbitMQ"},
	},
	"rust": {
		"actix-web": {traitFramework, "actix-web"}, "axum": {traitFramework, "axum"}, "rocket": {traitFramework, "Rocket"},
		"warp": {traitFramework, "warp"}, "hyper": {traitFramework, "hyper"},
		"sqlx": {traitSQL, "SQLx"}, "diesel": {traitSQL, "Diesel"}, "tokio-postgres": {traitSQL, "PostgreSQL"},
		"rusqlite": {traitSQL, "SQLite"}, "mongodb": {traitNoSQL, "MongoDB"}, "redis": {traitNoSQL, "Redis"},
		"aws-sdk-*": {traitCloud, "AWS"}, "aws-config": {traitCloud, "AWS"},
		"reqwest": {traitHTTPClient, "reqwest"}, "tera": {traitTemplate, "Tera"}, "askama": {traitTemplate, "Askama"},
		"jsonwebtoken": {traitAuth, "jsonwebtoken"}, "lapin": {traitQueue, "RabbitMQ"}, "rdkafka": {traitQueue, "Kafka"},
		"tonic": {traitRPC, "gRPC"}, "async-graphql": {traitRPC, "GraphQL"},
	},
}

// lookup finds what a dependency of ecosystem means.
func lookup(ecosystem, name string) (dep, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if ecosystem == "python" {
		name = strings.ReplaceAll(name, "_", "-")
	}
	cat := catalog[ecosystem]
	if d, ok := cat[name]; ok {
		return d, true
	}
	// Prefix entries: pick the longest matching prefix so results do not
	// depend on map iteration order.
	var (
		best    dep
		bestLen = -1
	)
	for k, d := range cat {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(name, p) && len(p) > bestLen {
			best, bestLen = d, len(p)
		}
	}
	return best, bestLen >= 0
}
