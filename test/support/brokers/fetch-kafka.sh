#!/usr/bin/env bash
# Fetch the Apache Kafka broker jars (KRaft mode) from Maven Central for the test suite.
# Idempotent: does nothing when test/support/brokers/.kafka/lib already holds this version.
# Usage: test/support/brokers/fetch-kafka.sh            (KAFKA_VERSION overrides the version)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${KAFKA_VERSION:-3.9.2}"
dir="$here/.kafka"
lib="$dir/lib"
stamp="$lib/.complete-$version"

if [ -f "$stamp" ]; then
  echo "fetch-kafka: Kafka $version already in $lib"
  exit 0
fi
command -v mvn >/dev/null || { echo "fetch-kafka: mvn (Maven) is required" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-kafka: java is required" >&2; exit 1; }

rm -rf "$lib" "$dir/pom"
mkdir -p "$dir/pom" "$lib"
cat > "$dir/pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice.test</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$version</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM

echo "fetch-kafka: fetching Kafka $version jars with Maven into $lib"
mvn -B -q -f "$dir/pom/pom.xml" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DoutputDirectory="$lib" -DincludeScope=runtime
ls "$lib"/kafka_2.13-"$version".jar >/dev/null
touch "$stamp"
echo "fetch-kafka: $(ls "$lib" | wc -l) jars ready"
